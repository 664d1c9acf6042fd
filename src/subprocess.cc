#include "subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <set>

#include "unique_fd.h"

extern char** environ;

namespace ingest {

namespace {

using Clock = std::chrono::steady_clock;

// Without pidfds (Linux < 5.3) the wait polls waitid this often.
constexpr std::chrono::milliseconds kExitPollTick{20};

// A pipe whose ends are close-on-exec and never descriptors 0 to 2: when
// this process runs with a standard descriptor closed, pipe2 may hand one
// out, and a dup2 onto the same number in the child would keep its
// close-on-exec flag.
Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("cannot create a pipe", errno);
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  for (UniqueFd* fd : {read_end, write_end}) {
    if (fd->get() > STDERR_FILENO) continue;
    int moved = ::fcntl(fd->get(), F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    if (moved < 0) return Status::FromErrno("cannot move a pipe descriptor", errno);
    fd->reset(moved);
  }
  return Status::OK();
}

Status SetNonBlocking(const UniqueFd& fd) {
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return Status::FromErrno("cannot make a pipe non-blocking", errno);
  }
  return Status::OK();
}

// Blocks SIGPIPE in the calling thread for its lifetime, so a write to the
// stdin of a child that exited or closed it fails with EPIPE instead of
// killing this process. A SIGPIPE raised meanwhile is thread-directed, so
// it is pending here; it is consumed before the old mask comes back.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (raised_) {
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  void Raised() { raised_ = true; }

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool raised_ = false;
};

// posix_spawn attributes and file actions, released on every path.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // The child's 0, 1 and 2 on the given descriptors; its own process group
  // (so a timeout can signal everything it started), an empty signal mask
  // and default dispositions (a caller that ignores SIGPIPE or blocks
  // SIGTERM must not pass that on).
  int Prepare(int in, int out, int err) {
    int rc = posix_spawn_file_actions_adddup2(&actions_, in, STDIN_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, out, STDOUT_FILENO);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions_, err, STDERR_FILENO);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (rc == 0) {
      rc = posix_spawnattr_setflags(
          &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    if (rc == 0) rc = posix_spawnattr_setpgroup(&attr_, 0);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attr_, &none);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr_, &all);
    return rc;
  }
  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  const posix_spawnattr_t* attr() const { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

std::vector<char*> CStrings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Whether the child has exited, without reaping it: while it is a zombie
// its pid, which is also its process group's id, cannot be reused, so the
// group can still be signalled safely.
// A child that cannot be waited for (ECHILD) counts as exited; Reap then
// reports it.
bool HasExited(pid_t pid) {
  siginfo_t info = {};
  int rc;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  return rc < 0 || info.si_pid == pid;
}

Status Reap(pid_t pid, const std::string& program, int* status) {
  while (::waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno("cannot wait for '" + program + "'", errno);
  }
  return Status::OK();
}

// With SIGCHLD ignored (a disposition that survives exec, so a parent can
// hand it down), the kernel reaps children at once: no exit status, and a
// pid that may be reused while the timeout still means to signal it.
void RestoreSigchld() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    if (::sigaction(SIGCHLD, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN) {
      sa.sa_handler = SIG_DFL;
      ::sigaction(SIGCHLD, &sa, nullptr);
    }
  });
}

// One stream of the child's output.
struct Sink {
  UniqueFd fd;
  std::string* text;
  bool* truncated;
  size_t limit;

  // Reads what is there, at most about `budget` bytes, so that a child
  // that writes without end cannot keep the caller from its deadlines.
  // False at end of file or on an error (the stream is then closed).
  bool Drain(size_t budget) {
    char buf[16 * 1024];
    for (size_t got = 0; got < budget;) {
      ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n > 0) {
        got += static_cast<size_t>(n);
        const size_t room = limit - std::min(limit, text->size());
        const size_t keep = std::min(room, static_cast<size_t>(n));
        text->append(buf, keep);
        if (keep < static_cast<size_t>(n)) *truncated = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      fd.reset();
      return false;
    }
    return true;
  }
};

// Output read per stream per wake-up, and after the child exited (what a
// pipe can hold; more would come from descendants still writing).
constexpr size_t kDrainBudget = 1024 * 1024;

}  // namespace

std::string SubprocessResult::Describe(std::chrono::milliseconds timeout) const {
  std::string out;
  if (timed_out) {
    const auto ms = timeout.count();
    out = "timed out after " +
          (ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms") +
          (killed ? " (SIGTERM, then SIGKILL sent to its process group)"
                  : " (SIGTERM sent to its process group)");
    return out;
  }
  if (exited) return "exit status " + std::to_string(exit_code);
  const char* abbrev = sigabbrev_np(signal);
  return abbrev != nullptr ? std::string("killed by SIG") + abbrev
                           : "killed by signal " + std::to_string(signal);
}

std::vector<std::string> EnvironmentWith(
    const std::vector<std::pair<std::string, std::string>>& vars) {
  std::set<std::string> names;
  for (const auto& [name, value] : vars) names.insert(name);
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string_view::npos && names.count(std::string(entry.substr(0, eq)))) continue;
    out.emplace_back(entry);
  }
  for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
  return out;
}

Status RunSubprocess(const SubprocessSpec& spec, SubprocessResult* result) {
  *result = SubprocessResult();
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status::InvalidArgument("no program to run");
  }
  const std::string& program = spec.argv[0];
  RestoreSigchld();
  UniqueFd in_r, in_w, out_r, out_w, err_r, err_w;
  Status s = MakePipe(&in_r, &in_w);
  if (s.ok()) s = MakePipe(&out_r, &out_w);
  if (s.ok()) s = MakePipe(&err_r, &err_w);
  if (s.ok()) s = SetNonBlocking(in_w);
  if (s.ok()) s = SetNonBlocking(out_r);
  if (s.ok()) s = SetNonBlocking(err_r);
  if (!s.ok()) return s;

  pid_t pid = -1;
  {
    SpawnSetup setup;
    int rc = setup.Prepare(in_r.get(), out_w.get(), err_w.get());
    if (rc != 0) return Status::FromErrno("cannot prepare to run '" + program + "'", rc);
    std::vector<char*> argv = CStrings(spec.argv);
    std::vector<char*> envp = CStrings(spec.env);
    // posix_spawnp runs the child with vfork semantics, which is safe in a
    // process with other threads (LevelDB's), and reports a failed exec
    // (program not found, not executable) as its return value.
    rc = ::posix_spawnp(&pid, program.c_str(), setup.actions(), setup.attr(), argv.data(),
                        envp.data());
    if (rc != 0) {
      std::string context = "cannot run '" + program + "'";
      if (program.find('/') == std::string::npos) context += " (looked up in PATH)";
      return Status::FromErrno(context, rc);
    }
  }
  // The child holds its ends now; ours would keep the pipes open forever.
  in_r.reset();
  out_w.reset();
  err_w.reset();

  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  SigpipeBlock sigpipe;
  Sink sinks[2] = {{std::move(out_r), &result->out, &result->out_truncated, spec.output_limit},
                   {std::move(err_r), &result->err, &result->err_truncated, spec.output_limit}};
  size_t written = 0;
  if (spec.stdin_data.empty()) in_w.reset();

  const Clock::time_point start = Clock::now();
  const bool limited = spec.timeout.count() > 0;
  const Clock::time_point deadline = start + spec.timeout;
  Clock::time_point kill_at;
  Status wait_error;
  for (;;) {
    if (HasExited(pid)) break;
    const Clock::time_point now = Clock::now();
    if (limited && !result->timed_out && now >= deadline) {
      result->timed_out = true;
      ::kill(-pid, SIGTERM);
      kill_at = now + spec.kill_grace;
    }
    if (result->timed_out && !result->killed && now >= kill_at) {
      result->killed = true;
      ::kill(-pid, SIGKILL);
    }

    // Sleep until the child writes, can take more input, exits, or the
    // next deadline.
    struct pollfd fds[4];
    nfds_t n = 0;
    int in_slot = -1, sink_slot[2] = {-1, -1};
    if (in_w.isValid()) {
      in_slot = static_cast<int>(n);
      fds[n++] = {in_w.get(), POLLOUT, 0};
    }
    for (int i = 0; i < 2; ++i) {
      if (!sinks[i].fd.isValid()) continue;
      sink_slot[i] = static_cast<int>(n);
      fds[n++] = {sinks[i].fd.get(), POLLIN, 0};
    }
    if (pidfd.isValid()) fds[n++] = {pidfd.get(), POLLIN, 0};
    Clock::duration wait = Clock::duration::max();
    if (!pidfd.isValid()) wait = kExitPollTick;
    if (limited && !result->timed_out) wait = std::min(wait, deadline - now);
    if (result->timed_out && !result->killed) wait = std::min(wait, kill_at - now);
    int timeout_ms = -1;
    if (wait != Clock::duration::max()) {
      timeout_ms = static_cast<int>(
          std::chrono::ceil<std::chrono::milliseconds>(std::max(wait, Clock::duration::zero()))
              .count());
    }
    if (::poll(fds, n, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      wait_error = Status::FromErrno("cannot wait for '" + program + "'", errno);
      ::kill(-pid, SIGKILL);
      break;
    }
    if (in_slot >= 0 && fds[in_slot].revents != 0) {
      const std::string& data = spec.stdin_data;
      for (;;) {
        ssize_t w = ::write(in_w.get(), data.data() + written, data.size() - written);
        if (w > 0) {
          written += static_cast<size_t>(w);
          if (written == data.size()) {
            in_w.reset();  // end of input
            break;
          }
          continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) break;
        // EPIPE: the child closed its stdin or exited without reading it
        // all, which is its business.
        if (w < 0 && errno == EPIPE) sigpipe.Raised();
        in_w.reset();
        break;
      }
    }
    for (int i = 0; i < 2; ++i) {
      if (sink_slot[i] >= 0 && fds[sink_slot[i]].revents != 0) sinks[i].Drain(kDrainBudget);
    }
  }
  in_w.reset();
  // Whatever of the group outlived a timed-out leader goes too; the
  // leader, not yet reaped, keeps the group id from being reused.
  if (result->timed_out) ::kill(-pid, SIGKILL);
  // What the child wrote before it exited is in the pipes. Descendants that
  // still hold them open are not waited for.
  for (Sink& sink : sinks) {
    if (sink.fd.isValid()) sink.Drain(kDrainBudget);
  }
  int status = 0;
  Status reaped = Reap(pid, program, &status);
  if (!wait_error.ok()) return wait_error;
  if (!reaped.ok()) return reaped;
  if (WIFEXITED(status)) {
    result->exited = true;
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->signal = WTERMSIG(status);
  }
  return Status::OK();
}

}  // namespace ingest
