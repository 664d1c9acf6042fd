// The LevelDB store, and above all the private copies that dry runs,
// `status` and `explain` read while another process may be writing.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "state_store.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class LevelDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    db_ = (root_ / "db").string();
    // Copies go to TMPDIR: keep them on this filesystem, where links work.
    fs::create_directory(root_ / "tmp");
    old_tmpdir_ = getenv("TMPDIR") ? getenv("TMPDIR") : "";
    setenv("TMPDIR", (root_ / "tmp").c_str(), 1);
  }
  void TearDown() override {
    if (old_tmpdir_.empty()) {
      unsetenv("TMPDIR");
    } else {
      setenv("TMPDIR", old_tmpdir_.c_str(), 1);
    }
  }

  // Opens the database, writes `n` keys "<prefix><i>", closes it. What was
  // written stays in LevelDB's log until the next open turns it into a
  // table.
  void Write(const std::string& prefix, int n) {
    std::unique_ptr<StateStore> db;
    ASSERT_TRUE(OpenLevelDbStore(db_, true, &db).ok());
    std::vector<StateWrite> batch;
    for (int i = 0; i < n; ++i) batch.push_back({prefix + std::to_string(i), "value"});
    ASSERT_TRUE(db->Apply(batch, true).ok());
  }

  int TableFiles() {
    int n = 0;
    for (const auto& e : fs::directory_iterator(db_)) n += e.path().extension() == ".ldb";
    return n;
  }

  TempRoot tmp_{"leveldb_store_test"};
  fs::path root_;
  std::string db_;
  std::string old_tmpdir_;
};

TEST_F(LevelDbStoreTest, MissingDatabaseIsNotFound) {
  std::unique_ptr<StateStore> copy;
  EXPECT_TRUE(OpenLevelDbSnapshot(db_, &copy).IsNotFound());
}

TEST_F(LevelDbStoreTest, CopyHoldsTheStateAndStaysPrivate) {
  Write("a", 10);
  std::unique_ptr<StateStore> db;
  ASSERT_TRUE(OpenLevelDbStore(db_, false, &db).ok());
  std::unique_ptr<StateStore> copy;
  Status s = OpenLevelDbSnapshot(db_, &copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string value;
  EXPECT_TRUE(copy->Get("a3", &value).ok());
  // Later writes to either side stay on that side.
  ASSERT_TRUE(db->Apply({{"after", "x"}}, true).ok());
  ASSERT_TRUE(copy->Apply({{"in-copy", "x"}}, true).ok());
  EXPECT_TRUE(copy->Get("after", &value).IsNotFound());
  EXPECT_TRUE(db->Get("in-copy", &value).IsNotFound());
  copy.reset();
  EXPECT_TRUE(fs::is_empty(root_ / "tmp")) << "the copy is removed with its store";
}

TEST_F(LevelDbStoreTest, CopyLinksTheTableFiles) {
  Write("a", 1000);
  Write("b", 1000);  // this open turned the first batch into a table
  ASSERT_GT(TableFiles(), 0);
  std::unique_ptr<StateStore> copy;
  ASSERT_TRUE(OpenLevelDbSnapshot(db_, &copy).ok());
  for (const auto& e : fs::directory_iterator(db_)) {
    if (e.path().extension() != ".ldb") continue;
    struct stat st;
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 2u) << e.path() << " was copied, not linked";
  }
  std::string value;
  EXPECT_TRUE(copy->Get("a999", &value).ok());
  EXPECT_TRUE(copy->Get("b999", &value).ok());
}

TEST_F(LevelDbStoreTest, CopyNeverWritesIntoTheOriginalsFiles) {
  // A writer's table in progress: a file the manifest does not name yet,
  // under a number the copy may hand out itself when it turns the log into
  // a table on opening. The copy links it; writing there would truncate
  // the writer's file.
  Write("a", 100);
  std::vector<fs::path> in_progress;
  for (int n = 1; n < 100; ++n) {
    char name[32];
    std::snprintf(name, sizeof name, "%06d.ldb", n);
    const fs::path p = fs::path(db_) / name;
    if (fs::exists(p)) continue;
    std::ofstream(p, std::ios::binary) << "the writer's table";
    in_progress.push_back(p);
  }
  std::unique_ptr<StateStore> copy;
  Status s = OpenLevelDbSnapshot(db_, &copy);
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string value;
  EXPECT_TRUE(copy->Get("a42", &value).ok());
  ASSERT_TRUE(copy->Apply({{"more", std::string(1000, 'x')}}, true).ok());
  copy.reset();
  for (const fs::path& p : in_progress) {
    EXPECT_EQ(ReadFile(p), "the writer's table") << p;
  }
}

TEST_F(LevelDbStoreTest, UnreadableCopyNamesTheDatabase) {
  Write("a", 1);
  std::ofstream(fs::path(db_) / "CURRENT", std::ios::trunc) << "garbage\n";
  std::unique_ptr<StateStore> copy;
  Status s = OpenLevelDbSnapshot(db_, &copy);
  ASSERT_FALSE(s.ok());
  EXPECT_FALSE(s.IsNotFound());
  EXPECT_NE(s.ToString().find(db_), std::string::npos) << s.ToString();
  EXPECT_TRUE(fs::is_empty(root_ / "tmp")) << "failed copies are removed";
}

}  // namespace
}  // namespace ingest
