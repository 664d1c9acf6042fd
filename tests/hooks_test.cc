#include "hooks.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "mem_state_store.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1795341600LL * kNanosPerSecond;

// Records which hooks ran, in order, and fails those it is told to.
class FakeRunner final : public HookRunner {
 public:
  Status Run(const HookRecord& rec) override {
    std::lock_guard<std::mutex> lock(mu_);
    ran_.push_back(rec.path);
    attempts_seen_[rec.path] = rec.attempts;
    if (fail_.count(rec.path)) return Status::IOError("'hook' exit status 3");
    return Status::OK();
  }
  void Fail(const std::string& path) { fail_[path] = true; }
  void Heal(const std::string& path) { fail_.erase(path); }
  const std::vector<std::string>& ran() const { return ran_; }
  uint64_t attempts_seen(const std::string& path) { return attempts_seen_[path]; }
  void Clear() { ran_.clear(); }

 private:
  std::mutex mu_;
  std::vector<std::string> ran_;
  std::map<std::string, bool> fail_;
  std::map<std::string, uint64_t> attempts_seen_;
};

// A store whose writes fail.
class ReadOnlyStore final : public MemStateStore {
 public:
  Status Apply(const std::vector<StateWrite>&, bool) override {
    return Status::IOError("state is read-only");
  }
};

std::string Id(int n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx-%06x", static_cast<unsigned long long>(kNow), n);
  return buf;
}

std::string PathOf(int n) { return "/wh/ingest_date=2026-11-22/f" + std::to_string(n) + ".csv"; }

// Queues the hook of file n the way the commit does.
void Queue(StateStore* state, int n) {
  Intent in;
  in.sha256 = std::string(63, 'a') + static_cast<char>('a' + n % 6);
  in.size = static_cast<uint64_t>(n);
  in.manifest_line = "{\"n\":" + std::to_string(n) + "}\n";
  ContentRecord rec;
  rec.path = PathOf(n);
  rec.source = "/in/f" + std::to_string(n) + ".csv";
  rec.manifest = "/mf/2026/11/22/10/manifest.jsonl";
  ASSERT_TRUE(state->Apply({PendingHookWrite(Id(n), in, rec, kNow)}, true).ok());
}

std::map<std::string, HookRecord> Pending(StateStore* state) {
  std::map<std::string, HookRecord> out;
  (void)state->Scan(keys::kHook, [&](std::string_view key, std::string_view value) {
    HookRecord h;
    EXPECT_TRUE(DecodeHookRecord(value, &h)) << key;
    out[std::string(key)] = h;
    return true;
  });
  return out;
}

class HooksTest : public ::testing::Test {
 protected:
  Status RunAll(int concurrency = 1) {
    stats_ = PassStats();
    return RunPendingHooks(&state_, &runner_, &clock_, concurrency, &stats_);
  }

  MemStateStore state_;
  FakeRunner runner_;
  ManualClock clock_{kNow};
  PassStats stats_;
};

TEST_F(HooksTest, PendingHookWriteHoldsTheFileAndItsManifestLine) {
  Queue(&state_, 5);
  std::map<std::string, HookRecord> pending = Pending(&state_);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending.begin()->first, keys::Hook(Id(5)));
  const HookRecord& h = pending.begin()->second;
  EXPECT_EQ(h.path, PathOf(5));
  EXPECT_EQ(h.source, "/in/f5.csv");
  EXPECT_EQ(h.sha256, std::string(63, 'a') + 'f');
  EXPECT_EQ(h.manifest, "/mf/2026/11/22/10/manifest.jsonl");
  EXPECT_EQ(h.manifest_line, "{\"n\":5}\n");
  EXPECT_EQ(h.size, 5u);
  EXPECT_EQ(h.committed_at_ns, kNow);
  EXPECT_EQ(h.attempts, 0u);
  EXPECT_EQ(h.last_error, "");
}

TEST_F(HooksTest, HookThatSucceedsLosesItsRecordAndDoesNotRunAgain) {
  Queue(&state_, 1);
  ASSERT_TRUE(RunAll().ok());
  EXPECT_EQ(runner_.ran(), std::vector<std::string>{PathOf(1)});
  EXPECT_EQ(stats_.hooks_completed, 1u);
  EXPECT_EQ(stats_.hooks_failed, 0u);
  EXPECT_TRUE(Pending(&state_).empty());

  runner_.Clear();
  ASSERT_TRUE(RunAll().ok());
  EXPECT_TRUE(runner_.ran().empty());
  EXPECT_EQ(stats_.hooks_completed, 0u);
}

TEST_F(HooksTest, HookThatFailsKeepsItsRecordWithTheErrorAndRunsAgain) {
  Queue(&state_, 1);
  Queue(&state_, 2);
  runner_.Fail(PathOf(1));
  ASSERT_TRUE(RunAll().ok());
  EXPECT_EQ(stats_.hooks_completed, 1u);
  EXPECT_EQ(stats_.hooks_failed, 1u);
  std::map<std::string, HookRecord> pending = Pending(&state_);
  ASSERT_EQ(pending.size(), 1u);
  const HookRecord& h = pending[keys::Hook(Id(1))];
  EXPECT_EQ(h.attempts, 1u);
  EXPECT_EQ(h.last_error, "'hook' exit status 3");
  EXPECT_EQ(h.last_attempt_ns, kNow);
  EXPECT_EQ(h.path, PathOf(1));

  // Next run: fails again, then succeeds; the hook is told its attempt.
  clock_.Advance(kNanosPerSecond);
  runner_.Clear();
  ASSERT_TRUE(RunAll().ok());
  EXPECT_EQ(runner_.ran(), std::vector<std::string>{PathOf(1)});
  EXPECT_EQ(runner_.attempts_seen(PathOf(1)), 1u);
  EXPECT_EQ(Pending(&state_)[keys::Hook(Id(1))].attempts, 2u);
  EXPECT_EQ(Pending(&state_)[keys::Hook(Id(1))].last_attempt_ns, kNow + kNanosPerSecond);

  runner_.Heal(PathOf(1));
  runner_.Clear();
  ASSERT_TRUE(RunAll().ok());
  EXPECT_EQ(runner_.ran(), std::vector<std::string>{PathOf(1)});
  EXPECT_EQ(stats_.hooks_completed, 1u);
  EXPECT_TRUE(Pending(&state_).empty());
}

TEST_F(HooksTest, HooksRunInCommitOrderAcrossChunks) {
  // More than one chunk of records, queued out of order.
  std::vector<std::string> expected;
  for (int n = 0; n < 600; ++n) expected.push_back(PathOf(n));
  for (int n = 599; n >= 0; --n) Queue(&state_, n);
  ASSERT_TRUE(RunAll(/*concurrency=*/1).ok());
  EXPECT_EQ(runner_.ran(), expected);
  EXPECT_EQ(stats_.hooks_completed, 600u);
  EXPECT_TRUE(Pending(&state_).empty());
}

TEST_F(HooksTest, FailingHooksRunOncePerPassAtAnyConcurrency) {
  for (int concurrency : {1, 4}) {
    for (int n = 0; n < 600; ++n) {
      Queue(&state_, n);
      runner_.Fail(PathOf(n));
    }
    runner_.Clear();
    ASSERT_TRUE(RunAll(concurrency).ok());
    std::vector<std::string> ran = runner_.ran();
    std::sort(ran.begin(), ran.end());
    std::vector<std::string> expected;
    for (int n = 0; n < 600; ++n) expected.push_back(PathOf(n));
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(ran, expected) << "concurrency " << concurrency;
    EXPECT_EQ(stats_.hooks_failed, 600u);
    EXPECT_EQ(Pending(&state_).size(), 600u);
    for (int n = 0; n < 600; ++n) runner_.Heal(PathOf(n));
    ASSERT_TRUE(RunAll(concurrency).ok());
    EXPECT_EQ(stats_.hooks_completed, 600u);
    EXPECT_TRUE(Pending(&state_).empty());
  }
}

TEST_F(HooksTest, UndecodableRecordIsCountedAsFailedAndKept) {
  ASSERT_TRUE(state_.Apply({{keys::Hook(Id(1)), "garbage"}}, true).ok());
  Queue(&state_, 2);
  ASSERT_TRUE(RunAll().ok());
  EXPECT_EQ(runner_.ran(), std::vector<std::string>{PathOf(2)});
  EXPECT_EQ(stats_.hooks_failed, 1u);
  std::string value;
  EXPECT_TRUE(state_.Get(keys::Hook(Id(1)), &value).ok());
}

TEST_F(HooksTest, StateWriteFailureIsReturned) {
  ReadOnlyStore store;
  MemStateStore& base = store;
  ASSERT_TRUE(
      base.MemStateStore::Apply({PendingHookWrite(Id(1), Intent{}, ContentRecord{}, 0)}, true)
          .ok());
  PassStats stats;
  Status s = RunPendingHooks(&store, &runner_, &clock_, 1, &stats);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("read-only"), std::string::npos) << s.ToString();
}

TEST_F(HooksTest, WithoutExecQueuedHooksWait) {
  Queue(&state_, 1);
  Options o;  // no --exec
  ASSERT_TRUE(RunHooksAfterPass(o, &state_, &clock_, &runner_, &stats_).ok());
  EXPECT_TRUE(runner_.ran().empty());
  EXPECT_EQ(Pending(&state_).size(), 1u);
}

TEST_F(HooksTest, DryRunRunsNoHook) {
  Queue(&state_, 1);
  Options o;
  o.exec_argv = {"hook"};
  o.dry_run = true;
  ASSERT_TRUE(RunHooksAfterPass(o, &state_, &clock_, &runner_, &stats_).ok());
  EXPECT_TRUE(runner_.ran().empty());
  EXPECT_EQ(Pending(&state_).size(), 1u);
}

class ExecHookRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = tmp_.path().string(); }

  static HookRecord Sample() {
    HookRecord h;
    h.path = "/wh/ingest_date=2026-11-22/a b $(id).csv";
    h.sha256 = std::string(64, 'e');
    h.source = "/in/a b $(id).csv";
    h.manifest = "/mf/2026/11/22/10/manifest.jsonl";
    h.manifest_line = "{\"path\":\"/wh/ingest_date=2026-11-22/a b $(id).csv\"}\n";
    h.size = 1234;
    h.attempts = 2;
    return h;
  }

  std::string Read(const std::string& name) { return ReadFile(dir_ + "/" + name); }

  TempRoot tmp_{"hooks_test"};
  std::string dir_;
};

TEST_F(ExecHookRunnerTest, HookGetsTheRecordOnStdinAndTheFileInItsEnvironment) {
  ExecHookRunner runner(
      {"sh", "-c", "cat >\"$1/stdin\"; env | grep ^ATOMIC_INGEST_ | sort >\"$1/env\"", "hook",
       dir_},
      std::chrono::seconds(60));
  const HookRecord h = Sample();
  Status s = runner.Run(h);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Read("stdin"), h.manifest_line);
  EXPECT_EQ(Read("env"),
            "ATOMIC_INGEST_ATTEMPT=3\n"
            "ATOMIC_INGEST_MANIFEST=/mf/2026/11/22/10/manifest.jsonl\n"
            "ATOMIC_INGEST_PATH=/wh/ingest_date=2026-11-22/a b $(id).csv\n"
            "ATOMIC_INGEST_SHA256=" +
                std::string(64, 'e') +
                "\n"
                "ATOMIC_INGEST_SIZE=1234\n"
                "ATOMIC_INGEST_SOURCE=/in/a b $(id).csv\n");
}

TEST_F(ExecHookRunnerTest, FailuresSayWhy) {
  Status exit3 = ExecHookRunner({"sh", "-c", "exit 3"}, std::chrono::seconds(60)).Run(Sample());
  EXPECT_EQ(exit3.ToString(), "'sh' exit status 3");
  Status missing =
      ExecHookRunner({"atomic-ingest-no-such-hook"}, std::chrono::seconds(60)).Run(Sample());
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("cannot run 'atomic-ingest-no-such-hook'"), std::string::npos)
      << missing.ToString();
  Status slow = ExecHookRunner({"sleep", "60"}, std::chrono::seconds(1)).Run(Sample());
  EXPECT_NE(slow.message().find("'sleep' timed out after 1s"), std::string::npos)
      << slow.ToString();
}

}  // namespace
}  // namespace ingest
