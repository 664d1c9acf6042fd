#include "stat_ahead.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class StatAheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path().string();
    // More than two chunks, of varied sizes; every third name is skipped.
    for (size_t i = 0; i < 2 * StatAhead::kChunk + 77; ++i) {
      WriteFile(dir_ + "/f" + std::to_string(i), std::string(i % 50, 'x'));
    }
    fs::create_directory(dir_ + "/sub");
    ASSERT_TRUE(Env::Default()->OpenDir(dir_, &dir_file_).ok());
  }

  static bool Wanted(const DirEntry& e) { return e.name.size() % 3 != 0; }

  struct Seen {
    std::string name;
    int64_t pos;
    bool has_prestat;
    Status status;
    FileStat st;
  };

  std::vector<Seen> List(size_t threads) {
    Env* env = Env::Default();
    EXPECT_TRUE(env->SeekDir(dir_file_, 0).ok());
    DirScanner scanner(env, &dir_file_);
    ThreadPool pool(threads);
    StatAhead listing(env, &dir_file_, &scanner, &pool, threads, Wanted);
    std::vector<Seen> seen;
    for (;;) {
      DirEntry e;
      const PreStat* pre = nullptr;
      bool done = false;
      Status s = listing.Next(&e, &pre, &done);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || done) break;
      Seen x{std::string(e.name), e.pos, pre != nullptr, Status::OK(), FileStat()};
      if (pre != nullptr) {
        x.status = pre->status;
        x.st = pre->st;
      }
      seen.push_back(x);
    }
    return seen;
  }

  TempRoot tmp_{"stat_ahead_test"};
  std::string dir_;
  File dir_file_;
};

TEST_F(StatAheadTest, OneThreadIsTheListingWithNothingTakenAhead) {
  const std::vector<Seen> seen = List(1);
  EXPECT_EQ(seen.size(), 2 * StatAhead::kChunk + 78);
  for (const Seen& x : seen) EXPECT_FALSE(x.has_prestat) << x.name;
}

TEST_F(StatAheadTest, ThreadsListInTheSameOrderAndStatWhatIsWanted) {
  const std::vector<Seen> serial = List(1);
  const std::vector<Seen> ahead = List(3);
  ASSERT_EQ(ahead.size(), serial.size());
  for (size_t i = 0; i < ahead.size(); ++i) {
    const Seen& x = ahead[i];
    EXPECT_EQ(x.name, serial[i].name);
    EXPECT_EQ(x.pos, serial[i].pos);
    EXPECT_EQ(x.has_prestat, x.name.size() % 3 != 0) << x.name;
    if (!x.has_prestat) continue;
    ASSERT_TRUE(x.status.ok()) << x.name << ": " << x.status.ToString();
    struct stat want;
    ASSERT_EQ(::stat((dir_ + "/" + x.name).c_str(), &want), 0);
    EXPECT_EQ(x.st.ino, want.st_ino) << x.name;
    EXPECT_EQ(x.st.size, static_cast<uint64_t>(want.st_size)) << x.name;
  }
}

}  // namespace
}  // namespace ingest
