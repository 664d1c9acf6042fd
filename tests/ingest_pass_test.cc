// What a pass reports to the watch: a stop request ends the listing and
// the next pass resumes it; the earliest stability deadline of the files it
// deferred. And a pass over a filesystem that misbehaves: writers and other
// instances acting between its steps, rename without flags, a large pass's
// names.

#include "ingest_pass.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "env.h"
#include "env_wrapper.h"
#include "mem_state_store.h"
#include "options.h"
#include "plan.h"
#include "records.h"
#include "sha256.h"
#include "test_support.h"
#include "warehouse.h"

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

TEST_F(IngestPassTest, TheScanCountsTheBacklogItLeavesByGroup) {
  options_.mode = Mode::kSidecar;
  Stage("a.csv", "12345");
  // Past the kernel's timestamp granularity (a jiffy), so the ctimes differ.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Stage("b.csv", "123");
  Stage("c.csv", "done");
  Stage("c.csv.ok", "");
  struct stat a;
  ASSERT_EQ(0, ::stat((base_ / "in" / "a.csv").c_str(), &a));
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, stats.files_ingested);
  // The ingested file is no backlog; the two waiting for their .ok are.
  EXPECT_EQ(2u, stats.backlog.waiting_for_ok.files);
  EXPECT_EQ(8u, stats.backlog.waiting_for_ok.bytes);
  EXPECT_EQ(0u, stats.backlog.not_yet_stable.files);
  EXPECT_EQ(0u, stats.backlog.failed.files);
  EXPECT_EQ(0u, stats.backlog.ready.files);
  // a.csv was written first: its ctime is the oldest.
  EXPECT_EQ((base_ / "in" / "a.csv").string(), stats.backlog.oldest_path);
  EXPECT_EQ(int64_t{a.st_ctim.tv_sec} * kNanosPerSecond + a.st_ctim.tv_nsec,
            stats.backlog.oldest_ctime_ns);
}

TEST_F(IngestPassTest, NothingWaitingIsNoBacklog) {
  Stage("a.csv", "a");
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, stats.files_ingested);
  EXPECT_EQ(0u, stats.backlog.files());
  EXPECT_EQ("", stats.backlog.oldest_path);
  EXPECT_EQ(0, stats.backlog.OldestAgeNs(clock_.NowNs()));
}

// The real filesystem, except that a writer appends to a staged file just
// after its rename into the warehouse, and the rename that puts it back
// fails once.
class AppendAfterMoveEnv final : public EnvWrapper {
 public:
  AppendAfterMoveEnv() : EnvWrapper(Env::Default()) {}

  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override {
    const bool into_warehouse = to_dir.path().find("ingest_date=") != std::string::npos;
    const bool out_of_warehouse = from_dir.path().find("ingest_date=") != std::string::npos;
    if (out_of_warehouse && !failed_back_) {
      failed_back_ = true;
      return Status::FromErrno("cannot rename " + from_dir.Child(from), EIO);
    }
    Status s = EnvWrapper::Rename(from_dir, from, to_dir, to);
    if (s.ok() && into_warehouse && !appended_) {
      appended_ = true;
      std::ofstream(to_dir.Child(to), std::ios::app) << " and more";
    }
    return s;
  }

 private:
  bool appended_ = false;
  bool failed_back_ = false;
};

TEST_F(IngestPassTest, AFileThatCannotBePutBackAfterAnAppendIsPutBackByRecovery) {
  Stage("a.csv", "first");
  AppendAfterMoveEnv env;
  PassStats first;
  Status s = RunIngestPass(options_, &env, &clock_, &state_, &first);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(0u, first.files_ingested);
  EXPECT_EQ(1u, first.failed);
  // Stuck in the warehouse with no manifest record: its intent stays open.
  size_t open = 0;
  ASSERT_TRUE(state_
                  .Scan(keys::kIntent,
                        [&](std::string_view, std::string_view) {
                          ++open;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(1u, open);

  // The next pass puts it back, then takes what it holds now.
  PassStats second;
  s = Pass(&second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, second.recovered);
  EXPECT_EQ(1u, second.files_ingested);
  EXPECT_EQ(0u, Staged());
  std::vector<fs::path> ingested;
  for (const auto& part : fs::directory_iterator(base_ / "wh")) {
    if (part.path().filename().string()[0] == '.') continue;  // the claim log
    for (const auto& f : fs::directory_iterator(part.path())) ingested.push_back(f.path());
  }
  ASSERT_EQ(1u, ingested.size());
  EXPECT_EQ("first and more", ReadFile(ingested[0]));
  size_t records = 0;
  for (const auto& f : fs::recursive_directory_iterator(base_ / "mf")) {
    if (f.path().filename() == "manifest.jsonl") {
      const std::string text = ReadFile(f.path());
      records += static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    }
  }
  EXPECT_EQ(1u, records);
}

// The real filesystem, where rename takes no flags (as on CephFS, NFS and
// FUSE) and, with `refuse_links`, hard links are refused too.
// The real filesystem, except that no manifest record of a.csv can be
// appended and a.csv cannot leave the warehouse: its commit stays open,
// its file moved, pass after pass.
class StuckCommitEnv final : public EnvWrapper {
 public:
  StuckCommitEnv() : EnvWrapper(Env::Default()) {}

  Status Write(const File& file, std::string_view data) override {
    if (file.path().ends_with("manifest.jsonl") && data.find("/a.csv\"") != std::string::npos) {
      return Status::FromErrno("cannot append to " + file.path(), EIO);
    }
    return EnvWrapper::Write(file, data);
  }
  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override {
    if (from == "a.csv" && from_dir.path().find("ingest_date=") != std::string::npos) {
      return Status::FromErrno("cannot rename " + from_dir.Child(from), EIO);
    }
    return EnvWrapper::Rename(from_dir, from, to_dir, to);
  }
};

// A copy of a content whose commit recovery could not finish is not
// ingested beside it: the open commit holds the content's claim, which the
// instance's claim index does not (it holds other instances' claims only).
TEST_F(IngestPassTest, ACopyOfAContentWhoseCommitStaysOpenIsNotIngestedAgain) {
  Stage("a.csv", "same content");
  StuckCommitEnv env;
  PassStats first;
  (void)RunIngestPass(options_, &env, &clock_, &state_, &first);
  EXPECT_EQ(0u, first.files_ingested);
  Stage("b.csv", "same content");
  clock_.Advance(60 * kNanosPerSecond);
  PassStats second;
  (void)RunIngestPass(options_, &env, &clock_, &state_, &second);
  EXPECT_EQ(0u, second.files_ingested);
  size_t in_partitions = 0;
  for (const auto& part : fs::directory_iterator(base_ / "wh")) {
    if (!part.path().filename().string().starts_with("ingest_date=")) continue;
    in_partitions += static_cast<size_t>(std::distance(fs::directory_iterator(part.path()), {}));
  }
  EXPECT_EQ(1u, in_partitions);

  // Once the commit can finish, the content is in the warehouse once.
  clock_.Advance(60 * kNanosPerSecond);
  PassStats third;
  ASSERT_TRUE(Pass(&third).ok());
  in_partitions = 0;
  for (const auto& part : fs::directory_iterator(base_ / "wh")) {
    if (!part.path().filename().string().starts_with("ingest_date=")) continue;
    in_partitions += static_cast<size_t>(std::distance(fs::directory_iterator(part.path()), {}));
  }
  EXPECT_EQ(1u, in_partitions);
}

class NoRenameFlagsEnv final : public EnvWrapper {
 public:
  explicit NoRenameFlagsEnv(bool refuse_links)
      : EnvWrapper(Env::Default()), refuse_links_(refuse_links) {}

  Status Rename(const File& from_dir, const std::string& from, const File&,
                const std::string&) override {
    ++renames;
    return Status::FromErrno("cannot rename " + from_dir.Child(from), EINVAL);
  }
  Status Link(const File& from_dir, const std::string& from, const File& to_dir,
              const std::string& to) override {
    ++links;
    if (refuse_links_) return Status::FromErrno("cannot link " + from_dir.Child(from), EPERM);
    return EnvWrapper::Link(from_dir, from, to_dir, to);
  }

  int renames = 0;
  int links = 0;

 private:
  const bool refuse_links_;
};

TEST_F(IngestPassTest, WhereRenameTakesNoFlagsFilesMoveByLinkAndUnlink) {
  for (int i = 0; i < 3; ++i)
    Stage("f" + std::to_string(i) + ".csv", "content " + std::to_string(i));
  NoRenameFlagsEnv env(/*refuse_links=*/false);
  PassStats stats;
  Status s = RunIngestPass(options_, &env, &clock_, &state_, &stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(3u, stats.files_ingested);
  EXPECT_EQ(0u, stats.failed);
  EXPECT_EQ(0u, Staged());
  // Learnt once per pass: one refused rename, then links only, one per
  // move (claims take none).
  EXPECT_EQ(1, env.renames);
  EXPECT_EQ(3, env.links);
  for (const auto& part : fs::directory_iterator(base_ / "wh")) {
    if (part.path().filename().string()[0] == '.') continue;  // the claim log
    for (const auto& f : fs::directory_iterator(part.path())) {
      EXPECT_EQ(1u, fs::hard_link_count(f.path())) << f.path();
    }
  }
}

TEST_F(IngestPassTest, WithoutRenameFlagsOrHardLinksOneErrorAndTheFilesWait) {
  for (int i = 0; i < 3; ++i)
    Stage("f" + std::to_string(i) + ".csv", "content " + std::to_string(i));
  NoRenameFlagsEnv env(/*refuse_links=*/true);
  PassStats stats;
  Status s = RunIngestPass(options_, &env, &clock_, &state_, &stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(0u, stats.files_ingested);
  EXPECT_EQ(1u, stats.failed);  // said once, not once per file
  EXPECT_EQ(2u, stats.deferred);
  // Each claim tried (in parallel) at most once; no move.
  EXPECT_LE(env.links, 3);
  EXPECT_EQ(3u, Staged());
}

// The real filesystem, except that another process puts a file named
// `name` into the partition just before this one's rename of that name;
// and the stats that find no file in a partition are counted.
class NameTakenMeanwhileEnv final : public EnvWrapper {
 public:
  explicit NameTakenMeanwhileEnv(std::string name)
      : EnvWrapper(Env::Default()), name_(std::move(name)) {}

  Status StatAt(const File& dir, const std::string& name, FileStat* st) override {
    Status s = EnvWrapper::StatAt(dir, name, st);
    if (s.IsNotFound() && (InPartition(dir.path()) || InPartition(name))) ++absent_stats;
    return s;
  }
  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override {
    if (to == name_ && InPartition(to_dir.path()) && !taken_) {
      taken_ = true;
      WriteFile(to_dir.Child(to), "another instance's");
    }
    return EnvWrapper::Rename(from_dir, from, to_dir, to);
  }

  std::atomic<int> absent_stats{0};

 private:
  static bool InPartition(const std::string& path) {
    return path.find("ingest_date=") != std::string::npos;
  }

  const std::string name_;
  bool taken_ = false;
};

TEST_F(IngestPassTest, ALargePassListsItsPartitionAndANameTakenBeforeOrSinceStillCollides) {
  constexpr int kFiles = 2 * static_cast<int>(Planner::kListAfterLookups) + 100;
  for (int i = 0; i < kFiles; ++i) {
    Stage("f" + std::to_string(i) + ".csv", "content " + std::to_string(i));
  }
  const fs::path partition = base_ / "wh" / PartitionDir(UtcTime(clock_.NowNs()));
  fs::create_directories(partition);
  WriteFile(partition / "f2000.csv", "an earlier ingest");
  NameTakenMeanwhileEnv env("f1900.csv");
  PassStats first;
  Status s = RunIngestPass(options_, &env, &clock_, &state_, &first);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(static_cast<uint64_t>(kFiles - 1), first.files_ingested);
  // The rename never replaces: the file whose name was taken waits.
  EXPECT_EQ(0u, first.failed);
  EXPECT_EQ(1u, first.deferred);
  EXPECT_EQ(1u, Staged());
  EXPECT_EQ("an earlier ingest", ReadFile(partition / "f2000.csv"));
  EXPECT_EQ("another instance's", ReadFile(partition / "f1900.csv"));
  // One listing instead of a stat per file.
  EXPECT_LT(env.absent_stats.load(), kFiles / 2);

  PassStats second;
  s = Pass(&second);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, second.files_ingested);
  EXPECT_EQ(0u, Staged());
  std::multiset<std::string> contents;
  for (const auto& f : fs::directory_iterator(partition)) contents.insert(ReadFile(f.path()));
  EXPECT_EQ(static_cast<size_t>(kFiles + 2), contents.size());
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(1u, contents.count("content " + std::to_string(i))) << i;
  }
}

TEST_F(IngestPassTest, ALargeFileReadInManyPiecesGetsItsSha256) {
  // Many reads, the last one short.
  std::string content((9 << 20) + 7, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 2654435761u >> 11);
  Stage("big.bin", content);
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(1u, stats.files_ingested);
  std::string manifests;
  for (const auto& f : fs::recursive_directory_iterator(base_ / "mf")) {
    if (f.path().filename() == "manifest.jsonl") manifests += ReadFile(f.path());
  }
  EXPECT_NE(std::string::npos, manifests.find("\"sha256\":\"" + Sha256::HexOf(content) + "\""))
      << manifests;
}

}  // namespace
}  // namespace ingest
