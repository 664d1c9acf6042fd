#include "scan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "clock.h"
#include "env_wrapper.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

// The real filesystem, except that the directory named `other_mount`
// claims another mount id.
class TestEnv final : public EnvWrapper {
 public:
  TestEnv() : EnvWrapper(Env::Default()) {}

  std::string other_mount;

  Status MountId(const File& dir, uint64_t* id) override {
    Status s = EnvWrapper::MountId(dir, id);
    if (s.ok() && !other_mount.empty() && dir.path() == other_mount) ++*id;
    return s;
  }
};

class StagingWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    options_.input = root_.string();
    options_.recursive = true;
    ASSERT_TRUE(env_.OpenDir(options_.input, &input_).ok());
    ASSERT_TRUE(env_.Stat(input_, &input_st_).ok());
  }
  // Walks staging, descending into every directory queued in `descend`
  // when its parent is listed; returns "rel:place" per directory.
  std::vector<std::string> Walk(const std::vector<std::string>& descend) {
    ManualClock clock(0);
    EntryDecider decider(&env_, options_, &clock, input_, input_st_, nullptr);
    EXPECT_TRUE(decider.Init().ok());
    StagingWalk walk(&env_, input_, &decider);
    std::vector<std::string> seen;
    for (;;) {
      std::shared_ptr<StagingDir> dir;
      DirPlace place;
      bool done = false;
      Status s = walk.Next(&dir, &place, &done);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || done) break;
      seen.push_back(dir->rel + (place == DirPlace::kListed ? ":listed" : ":other-mount"));
      if (place != DirPlace::kListed) continue;
      for (const std::string& d : descend) {
        const fs::path p(d);
        if (p.parent_path().string() == dir->rel) walk.Descend(*dir, p.filename().string());
      }
    }
    return seen;
  }

  TempRoot tmp_{"scan_test"};
  TestEnv env_;
  fs::path root_;
  Options options_;
  File input_;
  FileStat input_st_;
};

TEST_F(StagingWalkTest, BreadthFirstFromTheInput) {
  fs::create_directories(root_ / "a" / "deep");
  fs::create_directories(root_ / "b");
  EXPECT_EQ(Walk({"a", "b", "a/deep"}),
            (std::vector<std::string>{":listed", "a:listed", "b:listed", "a/deep:listed"}));
}

TEST_F(StagingWalkTest, SkipsDirectoriesRemovedSinceQueued) {
  fs::create_directories(root_ / "a");
  EXPECT_EQ(Walk({"a", "gone"}), (std::vector<std::string>{":listed", "a:listed"}));
}

TEST_F(StagingWalkTest, NeverEntersAnotherMount) {
  fs::create_directories(root_ / "mnt" / "below");
  env_.other_mount = (root_ / "mnt").string();
  EXPECT_EQ(Walk({"mnt", "mnt/below"}), (std::vector<std::string>{":listed", "mnt:other-mount"}));
}

TEST_F(StagingWalkTest, NeverFollowsASymlink) {
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "link");
  std::shared_ptr<StagingDir> dir;
  DirPlace place;
  ManualClock clock(0);
  EntryDecider decider(&env_, options_, &clock, input_, input_st_, nullptr);
  ASSERT_TRUE(decider.Init().ok());
  StagingWalk walk(&env_, input_, &decider);
  EXPECT_FALSE(walk.Open("link", &dir, &place).ok());
  ASSERT_TRUE(walk.Open("real", &dir, &place).ok());
  EXPECT_EQ(place, DirPlace::kListed);
  EXPECT_EQ(dir->rel, "real");
  EXPECT_EQ(dir->file.path(), (root_ / "real").string());
}

}  // namespace
}  // namespace ingest
