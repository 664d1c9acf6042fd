#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "status.h"

namespace ingest {

// What to run. The program is never run through a shell.
struct SubprocessSpec {
  // argv[0] is the program: looked up in PATH when it has no '/' (as
  // execvp does), else a path relative to the current directory.
  std::vector<std::string> argv;
  // The child's whole environment, "NAME=value" each (see EnvironmentWith).
  std::vector<std::string> env;
  // Written to the child's stdin, which is then closed. A child that does
  // not read it, or exits early, is not an error.
  std::string stdin_data;
  // After this long the child's process group gets SIGTERM, and SIGKILL
  // `kill_grace` later if the child is still there. Zero: no limit.
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds kill_grace{3000};
  // Bytes of stdout and of stderr kept each; the rest is read and dropped,
  // so a chatty child never blocks on a full pipe.
  size_t output_limit = 64 * 1024;
};

// How the child ended and what it wrote.
struct SubprocessResult {
  bool exited = false;  // it called exit; else a signal ended it
  int exit_code = 0;
  int signal = 0;
  bool timed_out = false;  // the timeout sent SIGTERM
  bool killed = false;     // and SIGKILL after the grace period
  std::string out;
  std::string err;
  bool out_truncated = false;
  bool err_truncated = false;

  bool succeeded() const { return exited && exit_code == 0 && !timed_out; }
  // "exit status 3", "killed by SIGSEGV", "timed out after 5s (SIGTERM
  // sent to its process group)".
  std::string Describe(std::chrono::milliseconds timeout) const;
};

// Starts spec.argv[0] in a new process group, with stdin, stdout and stderr
// on pipes (every descriptor this process opens is close-on-exec, so the
// child inherits none of them), the signal mask empty and every signal at its
// default action, and the current directory unchanged. Waits for it to
// exit, feeding stdin and collecting output meanwhile. Blocks the calling
// thread only: SIGPIPE is blocked in this thread while it writes, and no
// SIGCHLD handler is needed (the wait uses a pidfd, or polls waitid).
//
// An error means the child could not be started (program not found, not
// executable) or the wait itself failed; then no child is left behind.
// Thread-safe: several threads may each run a child at once.
Status RunSubprocess(const SubprocessSpec& spec, SubprocessResult* result);

// This process's environment with `vars` set (replacing entries of the same
// name), in the form SubprocessSpec::env takes.
std::vector<std::string> EnvironmentWith(
    const std::vector<std::pair<std::string, std::string>>& vars);

}  // namespace ingest
