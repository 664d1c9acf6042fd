// What a pass reports to the watch: a stop request ends the listing and
// the next pass resumes it; the earliest stability deadline of the files it
// deferred.

#include "ingest_pass.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "clock.h"
#include "env.h"
#include "mem_state_store.h"
#include "options.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class IngestPassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    base_ = tmp_.path();
    fs::create_directories(base_ / "in");
    fs::create_directories(base_ / "state");
    options_ = OptionsUnder(base_);
    options_.concurrency = 1;
  }

  void Stage(const std::string& name, const std::string& content) {
    WriteFile(base_ / "in" / name, content);
  }

  // max(mtime, ctime) of a staged file: where the timestamps put its last
  // change.
  int64_t NewestChange(const std::string& name) {
    struct stat st;
    EXPECT_EQ(0, ::stat((base_ / "in" / name).c_str(), &st));
    const int64_t m = int64_t{st.st_mtim.tv_sec} * kNanosPerSecond + st.st_mtim.tv_nsec;
    const int64_t c = int64_t{st.st_ctim.tv_sec} * kNanosPerSecond + st.st_ctim.tv_nsec;
    return std::max(m, c);
  }

  Status Pass(PassStats* stats, const std::atomic<bool>* stop = nullptr) {
    return RunIngestPass(options_, Env::Default(), &clock_, &state_, stats, stop);
  }

  size_t Staged() {
    return static_cast<size_t>(std::distance(fs::directory_iterator(base_ / "in"), {}));
  }

  TempRoot tmp_{"ingest_pass_test"};
  fs::path base_;
  Options options_;
  MemStateStore state_;
  ManualClock clock_{Clock::Real()->NowNs() + 60 * kNanosPerSecond};
};

TEST_F(IngestPassTest, AStopRequestEndsTheListingAndTheNextPassResumesIt) {
  for (int i = 0; i < 5; ++i)
    Stage("f" + std::to_string(i) + ".csv", "content " + std::to_string(i));
  std::atomic<bool> stop{true};
  PassStats stopped;
  Status s = Pass(&stopped, &stop);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(stopped.cut_short);
  EXPECT_EQ(0u, stopped.files_ingested);
  EXPECT_EQ(5u, Staged());

  stop = false;
  PassStats resumed;
  s = Pass(&resumed, &stop);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(resumed.cut_short);
  EXPECT_EQ(5u, resumed.files_ingested);
  EXPECT_EQ(0u, Staged());
}

TEST_F(IngestPassTest, NextReadyIsTheEarliestStabilityDeadline) {
  Stage("first.csv", "one");
  Stage("second.csv", "two");
  const int64_t first = NewestChange("first.csv");
  const int64_t second = NewestChange("second.csv");
  clock_.Set(std::max(first, second) + kNanosPerSecond);
  options_.stability_seconds = 30;

  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(2u, stats.deferred);
  EXPECT_FALSE(stats.cut_short);
  EXPECT_EQ(std::min(first, second) + 30 * kNanosPerSecond, stats.next_ready_ns);

  // At the deadline of both, they are taken and nothing waits any more.
  clock_.Set(std::max(first, second) + 30 * kNanosPerSecond);
  PassStats later;
  s = Pass(&later);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(2u, later.files_ingested);
  EXPECT_EQ(0, later.next_ready_ns);
}

TEST_F(IngestPassTest, AFileWaitingForItsSidecarSetsNoDeadline) {
  options_.mode = Mode::kSidecar;
  Stage("a.csv", "a");
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, stats.deferred);
  EXPECT_EQ(0, stats.next_ready_ns);
}

}  // namespace
}  // namespace ingest
