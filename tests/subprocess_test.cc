#include "subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace ingest {
namespace {

using std::chrono::milliseconds;

SubprocessSpec Spec(std::vector<std::string> argv) {
  SubprocessSpec spec;
  spec.argv = std::move(argv);
  spec.env = EnvironmentWith({});
  spec.timeout = std::chrono::seconds(60);
  return spec;
}

SubprocessResult RunChild(const SubprocessSpec& spec) {
  SubprocessResult r;
  Status s = RunSubprocess(spec, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

// Whether process `pid` is gone or a zombie (a process killed after its
// parent exited waits for init to reap it). Waits up to 10 s, since
// SIGKILL takes effect asynchronously.
bool GoneOrZombie(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    // "pid (comm) S ...": the state follows the last ')'.
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

TEST(SubprocessTest, ExitStatusIsReported) {
  SubprocessResult ok = RunChild(Spec({"true"}));
  EXPECT_TRUE(ok.exited);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_TRUE(ok.succeeded());
  EXPECT_EQ(ok.Describe(milliseconds(0)), "exit status 0");

  SubprocessResult bad = RunChild(Spec({"sh", "-c", "exit 7"}));
  EXPECT_TRUE(bad.exited);
  EXPECT_EQ(bad.exit_code, 7);
  EXPECT_FALSE(bad.succeeded());
  EXPECT_EQ(bad.Describe(milliseconds(0)), "exit status 7");
}

TEST(SubprocessTest, DeathBySignalIsReported) {
  SubprocessResult r = RunChild(Spec({"sh", "-c", "kill -SEGV $$"}));
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.Describe(milliseconds(0)), "killed by SIGSEGV");
}

TEST(SubprocessTest, StdinIsDeliveredWhole) {
  SubprocessSpec spec = Spec({"cat"});
  spec.stdin_data = "{\"path\":\"/w/a b.csv\"}\n";
  EXPECT_EQ(RunChild(spec).out, spec.stdin_data);

  // More than a pipe holds, so the writes interleave with the reads.
  spec.stdin_data.assign(3 * 1024 * 1024 + 7, 'x');
  spec.output_limit = spec.stdin_data.size();
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.out.size(), spec.stdin_data.size());
  EXPECT_EQ(r.out, spec.stdin_data);
  EXPECT_FALSE(r.out_truncated);
}

TEST(SubprocessTest, StdoutAndStderrAreKeptApart) {
  SubprocessResult r = RunChild(Spec({"sh", "-c", "echo out; echo err >&2"}));
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
}

TEST(SubprocessTest, ArgumentsReachTheProgramUninterpreted) {
  SubprocessResult r =
      RunChild(Spec({"printf", "%s|", "$(touch /tmp/pwned)", "a b", "*", "'\"", ""}));
  EXPECT_EQ(r.out, "$(touch /tmp/pwned)|a b|*|'\"||");
}

TEST(SubprocessTest, EnvironmentIsPassedWithOverrides) {
  ASSERT_EQ(::setenv("SUBPROCESS_TEST_VAR", "inherited", 1), 0);
  ASSERT_EQ(::setenv("SUBPROCESS_TEST_KEEP", "kept", 1), 0);
  SubprocessSpec spec = Spec({"sh", "-c", "env | grep '^SUBPROCESS_TEST_' | sort"});
  spec.env = EnvironmentWith({{"SUBPROCESS_TEST_VAR", "new value; $(id)"}});
  EXPECT_EQ(RunChild(spec).out,
            "SUBPROCESS_TEST_KEEP=kept\nSUBPROCESS_TEST_VAR=new value; $(id)\n");
  const std::vector<std::string> env = EnvironmentWith({{"SUBPROCESS_TEST_VAR", "x"}});
  EXPECT_EQ(std::count(env.begin(), env.end(), "SUBPROCESS_TEST_VAR=x"), 1);
  EXPECT_EQ(std::count(env.begin(), env.end(), "SUBPROCESS_TEST_VAR=inherited"), 0);
}

TEST(SubprocessTest, ProgramNotFoundInPathIsAnError) {
  SubprocessResult r;
  Status s = RunSubprocess(Spec({"atomic-ingest-no-such-program", "arg"}), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.message().find("'atomic-ingest-no-such-program'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("looked up in PATH"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos) << s.message();
}

TEST(SubprocessTest, ProgramPathThatDoesNotExistIsAnError) {
  SubprocessResult r;
  Status s = RunSubprocess(Spec({"/nonexistent/dir/hook"}), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent/dir/hook"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("PATH"), std::string::npos) << s.message();
}

TEST(SubprocessTest, ProgramThatIsNotExecutableIsAnError) {
  const std::string path = ::testing::TempDir() + "subprocess_test_not_executable";
  std::ofstream(path) << "#!/bin/sh\nexit 0\n";
  ::chmod(path.c_str(), 0644);
  SubprocessResult r;
  Status s = RunSubprocess(Spec({path}), &r);
  std::filesystem::remove(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Permission denied"), std::string::npos) << s.message();
}

TEST(SubprocessTest, ChildThatDoesNotReadStdinIsNoError) {
  // `true` exits without reading: the writes fail with EPIPE, and the
  // SIGPIPE they raise must neither kill this process nor stay pending.
  SubprocessSpec spec = Spec({"true"});
  spec.stdin_data.assign(4 * 1024 * 1024, '{');
  for (int i = 0; i < 3; ++i) {
    SubprocessResult r = RunChild(spec);
    EXPECT_TRUE(r.succeeded());
  }
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGPIPE)) << "SIGPIPE was left blocked";
}

TEST(SubprocessTest, ChildThatClosesStdinEarlyIsNoError) {
  SubprocessSpec spec = Spec({"sh", "-c", "head -c 10 >/dev/null; echo read"});
  spec.stdin_data.assign(2 * 1024 * 1024, 'x');
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.out, "read\n");
}

TEST(SubprocessTest, OutputBeyondTheLimitIsReadAndDropped) {
  SubprocessSpec spec = Spec({"head", "-c", "1000000", "/dev/zero"});
  spec.output_limit = 1000;
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_FALSE(r.err_truncated);
}

TEST(SubprocessTest, EndlessOutputStillTimesOut) {
  SubprocessSpec spec = Spec({"yes"});
  spec.timeout = milliseconds(300);
  spec.output_limit = 100;
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.out.size(), 100u);
  EXPECT_TRUE(r.out_truncated);
}

TEST(SubprocessTest, DescendantWritingWithoutEndDoesNotHoldTheResult) {
  // The shell exits at once; the `yes` it left behind keeps writing to the
  // stdout pipe until it is closed.
  SubprocessSpec spec = Spec({"sh", "-c", "yes & echo $! >&2"});
  spec.timeout = std::chrono::seconds(20);
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.succeeded());
  const pid_t background = std::atoi(r.err.c_str());
  ASSERT_GT(background, 0) << r.err;
  // Its next write meets a closed pipe; make sure it is gone either way.
  ::kill(background, SIGKILL);
}

TEST(SubprocessTest, TimeoutTerminatesTheProcessGroup) {
  // The shell and the sleep it started in the background both get SIGTERM.
  SubprocessSpec spec = Spec({"sh", "-c", "sleep 60 & echo $!; wait"});
  spec.timeout = milliseconds(300);
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.Describe(spec.timeout), "timed out after 300ms (SIGTERM sent to its process group)");
  const pid_t background = std::atoi(r.out.c_str());
  ASSERT_GT(background, 0) << r.out;
  EXPECT_TRUE(GoneOrZombie(background)) << "the background sleep " << background << " survived";
}

TEST(SubprocessTest, TimeoutEscalatesToSigkill) {
  // Both ignore SIGTERM (an ignored signal stays ignored across fork and
  // exec), so only the SIGKILL after the grace period ends them.
  SubprocessSpec spec = Spec({"sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait; wait"});
  spec.timeout = std::chrono::seconds(1);
  spec.kill_grace = milliseconds(200);
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(r.killed);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.Describe(spec.timeout),
            "timed out after 1s (SIGTERM, then SIGKILL sent to its process group)");
  const pid_t background = std::atoi(r.out.c_str());
  ASSERT_GT(background, 0) << r.out;
  EXPECT_TRUE(GoneOrZombie(background)) << "the background sleep " << background << " survived";
}

TEST(SubprocessTest, DescendantHoldingStdoutDoesNotDelayTheResult) {
  // The shell exits at once; its background child keeps the stdout pipe
  // open. Waiting for end of file would run into the timeout.
  SubprocessSpec spec = Spec({"sh", "-c", "sleep 30 & echo $!"});
  spec.timeout = std::chrono::seconds(20);
  SubprocessResult r = RunChild(spec);
  EXPECT_TRUE(r.succeeded());
  EXPECT_FALSE(r.timed_out);
  const pid_t background = std::atoi(r.out.c_str());
  ASSERT_GT(background, 0) << r.out;
  ::kill(background, SIGKILL);
}

TEST(SubprocessTest, ChildStartsWithAnEmptySignalMaskAndDefaultActions) {
  // This thread blocks SIGTERM and ignores SIGINT; the child must not
  // inherit either, or it could not be stopped.
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);
  struct sigaction ignore = {}, old_int = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  SubprocessResult term_r = RunChild(Spec({"sh", "-c", "kill -TERM $$; exit 0"}));
  SubprocessResult int_r = RunChild(Spec({"sh", "-c", "kill -INT $$; exit 0"}));
  sigaction(SIGINT, &old_int, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(term_r.signal, SIGTERM);
  EXPECT_EQ(int_r.signal, SIGINT);
}

TEST(SubprocessTest, SeveralThreadsRunChildrenAtOnce) {
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(4);
  for (size_t i = 0; i < outputs.size(); ++i) {
    threads.emplace_back([&outputs, i] {
      SubprocessSpec spec = Spec({"cat"});
      spec.stdin_data = std::string(100000, static_cast<char>('a' + i));
      spec.output_limit = spec.stdin_data.size();
      SubprocessResult r;
      if (RunSubprocess(spec, &r).ok()) outputs[i] = r.out;
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i], std::string(100000, static_cast<char>('a' + i))) << i;
  }
}

}  // namespace
}  // namespace ingest
