// StagingWatcher against the kernel's inotify on temporary directories.
// inotify queues an event while the system call that causes it runs, so
// each Read() right after a change sees it: no sleeping, no timing.

#include "staging_watcher.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class StagingWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    base_ = tmp_.path();
    input_ = base_ / "in";
    fs::create_directory(input_);
  }

  static void Write(const fs::path& p, const std::string& content = "x\n") {
    WriteFile(p, content);
  }

  StagingChanges Read(StagingWatcher* w) {
    StagingChanges c;
    Status s = w->Read(&c);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return c;
  }

  TempRoot tmp_{"staging_watcher_test"};
  fs::path base_;
  fs::path input_;
};

TEST_F(StagingWatcherTest, AFileClosedAfterWritingIsAChange) {
  StagingWatcher w(Env::Default(), input_.string(), /*recursive=*/false);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(1u, w.watched());
  EXPECT_TRUE(w.complete());
  EXPECT_FALSE(Read(&w).changed);
  Write(input_ / "a.csv");
  StagingChanges c = Read(&w);
  EXPECT_TRUE(c.changed);
  EXPECT_FALSE(c.overflow);
  EXPECT_FALSE(c.input_gone);
  EXPECT_FALSE(Read(&w).changed) << "events are consumed by Read";
}

TEST_F(StagingWatcherTest, NamesAPassNeverTakesAreNoChangeUntilRenamed) {
  StagingWatcher w(Env::Default(), input_.string(), false);
  ASSERT_TRUE(w.Start().ok());
  Write(input_ / "a.csv.tmp");
  Write(input_ / ".hidden");
  EXPECT_FALSE(Read(&w).changed);
  fs::rename(input_ / "a.csv.tmp", input_ / "a.csv");
  EXPECT_TRUE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, SidecarsAttributesAndDeletionsAreChanges) {
  Write(input_ / "a.csv");
  StagingWatcher w(Env::Default(), input_.string(), false);
  ASSERT_TRUE(w.Start().ok());
  Write(input_ / "a.csv.ok", "");
  EXPECT_TRUE(Read(&w).changed);
  fs::permissions(input_ / "a.csv", fs::perms::owner_read);
  EXPECT_TRUE(Read(&w).changed);
  fs::remove(input_ / "a.csv");
  EXPECT_TRUE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, AFileMovedOutIsNoChange) {
  Write(input_ / "a.csv");
  StagingWatcher w(Env::Default(), input_.string(), true);
  ASSERT_TRUE(w.Start().ok());
  fs::rename(input_ / "a.csv", base_ / "a.csv");
  EXPECT_FALSE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, WithoutRecursiveSubdirectoriesAreNotWatched) {
  fs::create_directory(input_ / "sub");
  StagingWatcher w(Env::Default(), input_.string(), false);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(1u, w.watched());
  Write(input_ / "sub" / "a.csv");
  EXPECT_FALSE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, RecursiveWatchesSubdirectoriesAndNewOnes) {
  fs::create_directories(input_ / "a" / "b");
  fs::create_directory(input_ / ".hidden");
  fs::create_directory(base_ / "elsewhere");
  fs::create_directory_symlink(base_ / "elsewhere", input_ / "link");
  StagingWatcher w(Env::Default(), input_.string(), true);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(3u, w.watched()) << "input, a and a/b; not hidden, not through a symlink";
  Write(input_ / "a" / "b" / "deep.csv");
  EXPECT_TRUE(Read(&w).changed);
  Write(input_ / ".hidden" / "x.csv");
  Write(base_ / "elsewhere" / "x.csv");
  EXPECT_FALSE(Read(&w).changed);

  // A directory arriving with a subdirectory already inside.
  fs::create_directories(base_ / "new" / "inner");
  fs::rename(base_ / "new", input_ / "new");
  EXPECT_TRUE(Read(&w).changed);
  EXPECT_EQ(5u, w.watched());
  Write(input_ / "new" / "inner" / "late.csv");
  EXPECT_TRUE(Read(&w).changed);

  // A directory leaving drops its watches.
  fs::rename(input_ / "new", base_ / "gone");
  Read(&w);
  EXPECT_EQ(3u, w.watched());
  Write(base_ / "gone" / "inner" / "after.csv");
  EXPECT_FALSE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, TheBoundOnWatchesLeavesTheRestToIntervalPasses) {
  fs::create_directories(input_ / "a");
  fs::create_directories(input_ / "b");
  fs::create_directories(input_ / "c");
  StagingWatcher w(Env::Default(), input_.string(), true, /*max_watches=*/2);
  ASSERT_TRUE(w.Start().ok());
  EXPECT_EQ(2u, w.watched());
  EXPECT_FALSE(w.complete());
  // Still watching the input itself.
  Write(input_ / "top.csv");
  EXPECT_TRUE(Read(&w).changed);
}

TEST_F(StagingWatcherTest, TheInputDirectoryGoingAwayIsReported) {
  StagingWatcher w(Env::Default(), input_.string(), false);
  ASSERT_TRUE(w.Start().ok());
  fs::rename(input_, base_ / "moved");
  StagingChanges c = Read(&w);
  EXPECT_TRUE(c.input_gone);
  EXPECT_EQ("moved", c.gone);

  fs::create_directory(input_);
  StagingWatcher w2(Env::Default(), input_.string(), true);
  ASSERT_TRUE(w2.Start().ok());
  fs::remove(input_);
  c = Read(&w2);
  EXPECT_TRUE(c.input_gone);
  EXPECT_EQ("deleted", c.gone);
}

TEST_F(StagingWatcherTest, AQueueOverflowIsReported) {
  std::ifstream limit_file("/proc/sys/fs/inotify/max_queued_events");
  long limit = 0;
  if (!(limit_file >> limit) || limit <= 0 || limit > 200000) {
    GTEST_SKIP() << "cannot read a usable fs.inotify.max_queued_events";
  }
  StagingWatcher w(Env::Default(), input_.string(), false);
  ASSERT_TRUE(w.Start().ok());
  // Each file queues two events (IN_CREATE, IN_CLOSE_WRITE).
  for (long i = 0; i < limit / 2 + 10; ++i) Write(input_ / ("f" + std::to_string(i)));
  StagingChanges c = Read(&w);
  EXPECT_TRUE(c.overflow);
  EXPECT_TRUE(c.changed);
  EXPECT_FALSE(c.input_gone);
}

TEST_F(StagingWatcherTest, AMissingInputDirectoryIsAnError) {
  StagingWatcher w(Env::Default(), (base_ / "nope").string(), false);
  Status s = w.Start();
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
}

}  // namespace
}  // namespace ingest
