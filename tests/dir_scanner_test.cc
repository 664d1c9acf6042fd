#include "dir_scanner.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class DirScannerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path().string();
    env_ = Env::Default();
  }

  void Touch(const std::string& name) { WriteFile(dir_ + "/" + name, "x"); }

  File Open() {
    File dir;
    Status s = env_->OpenDir(dir_, &dir);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return dir;
  }

  // Lists the whole directory; fails the test on an error.
  std::map<std::string, int> ScanAll(const File& dir, size_t buffer_size) {
    std::map<std::string, int> seen;
    DirScanner scanner(env_, &dir, buffer_size);
    for (int guard = 0; guard < 100000; ++guard) {
      DirEntry e;
      bool done = false;
      Status s = scanner.Next(&e, &done);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || done) break;
      ++seen[std::string(e.name)];
    }
    return seen;
  }

  TempRoot tmp_{"dir_scanner_test"};
  std::string dir_;
  Env* env_ = nullptr;
};

TEST_F(DirScannerTest, EmptyDirectoryIsDoneAtOnce) {
  File dir = Open();
  DirScanner scanner(env_, &dir, 128);
  DirEntry e;
  bool done = false;
  ASSERT_TRUE(scanner.Next(&e, &done).ok());
  EXPECT_TRUE(done);
  // And stays done.
  done = false;
  ASSERT_TRUE(scanner.Next(&e, &done).ok());
  EXPECT_TRUE(done);
}

TEST_F(DirScannerTest, TinyBufferSeesEveryNameExactlyOnce) {
  // Each entry takes at least 24 bytes, so a 128-byte buffer holds at most
  // five and the listing needs dozens of getdents64 calls.
  std::set<std::string> want;
  for (int i = 0; i < 300; ++i) {
    std::string name = "file-" + std::to_string(i) + std::string(i % 40, 'n');
    Touch(name);
    want.insert(name);
  }
  fs::create_directory(dir_ + "/subdir");
  want.insert("subdir");

  File dir = Open();
  std::map<std::string, int> seen = ScanAll(dir, 128);
  EXPECT_EQ(seen.count("."), 0u);
  EXPECT_EQ(seen.count(".."), 0u);
  EXPECT_EQ(seen.size(), want.size());
  for (const std::string& name : want) EXPECT_EQ(seen[name], 1) << name;
}

TEST_F(DirScannerTest, DefaultBufferSeesTheSameNamesAsATinyOne) {
  for (int i = 0; i < 50; ++i) Touch("f" + std::to_string(i));
  File a = Open();
  File b = Open();
  EXPECT_EQ(ScanAll(a, 128), ScanAll(b, DirScanner::kDefaultBufferSize));
}

TEST_F(DirScannerTest, EntriesCarryInodeAndType) {
  Touch("regular");
  fs::create_directory(dir_ + "/dir");
  File dir = Open();
  DirScanner scanner(env_, &dir, 128);
  int entries = 0;
  for (;;) {
    DirEntry e;
    bool done = false;
    ASSERT_TRUE(scanner.Next(&e, &done).ok());
    if (done) break;
    ++entries;
    struct stat st;
    const std::string path = dir_ + "/" + std::string(e.name);
    ASSERT_EQ(::lstat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(e.ino, st.st_ino) << e.name;
    if (e.type != DT_UNKNOWN) {
      EXPECT_EQ(e.type, S_ISDIR(st.st_mode) ? DT_DIR : DT_REG) << e.name;
    }
  }
  EXPECT_EQ(entries, 2);
}

TEST_F(DirScannerTest, UnusualNamesArriveByteForByte) {
  const std::set<std::string> want = {
      "\xFF\xFE-not-utf8", "new\nline", "back\\slash", std::string(255, 'L'),
      "caf\xC3\xA9",       "...",       "..a"};
  for (const std::string& name : want) Touch(name);
  File dir = Open();
  std::map<std::string, int> seen = ScanAll(dir, 1024);
  EXPECT_EQ(seen.size(), want.size());
  for (const std::string& name : want) EXPECT_EQ(seen[name], 1) << name;
}

TEST_F(DirScannerTest, ListingResumesAtAnEntrysNextOffset) {
  std::set<std::string> want;
  for (int i = 0; i < 100; ++i) {
    want.insert("r" + std::to_string(i));
    Touch("r" + std::to_string(i));
  }
  File dir = Open();
  std::set<std::string> first;
  int64_t resume = 0;
  {
    DirScanner scanner(env_, &dir, 128);
    while (first.size() < 40) {
      DirEntry e;
      bool done = false;
      ASSERT_TRUE(scanner.Next(&e, &done).ok());
      ASSERT_FALSE(done);
      first.insert(std::string(e.name));
      resume = e.next_offset;
    }
  }
  ASSERT_TRUE(env_->SeekDir(dir, resume).ok());
  std::map<std::string, int> rest = ScanAll(dir, 128);
  for (const auto& [name, count] : rest) {
    EXPECT_EQ(first.count(name), 0u) << name << " listed twice";
    EXPECT_EQ(count, 1) << name;
  }
  EXPECT_EQ(first.size() + rest.size(), want.size());
}

TEST_F(DirScannerTest, BufferTooSmallForOneEntryIsAnError) {
  Touch("a-name-longer-than-the-buffer");
  File dir = Open();
  DirScanner scanner(env_, &dir, 16);
  DirEntry e;
  bool done = false;
  Status s = scanner.Next(&e, &done);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir_), std::string::npos) << s.ToString();
}

TEST(ClassifyNameTest, OrdinaryNamesAreCandidates) {
  for (const char* name : {"a.csv", "data.tar.gz", "README", "x", "tmp", "file.tmp.csv", "okay",
                           "a.ok.csv", "partial", "archive.partx"}) {
    EXPECT_EQ(ClassifyName(name), NameFilter::kCandidate) << name;
  }
}

TEST(ClassifyNameTest, LeadingDotIsHidden) {
  for (const char* name : {".hidden", ".a.csv", ".", "..", ".tmp", ".x.ok"}) {
    EXPECT_EQ(ClassifyName(name), NameFilter::kHidden) << name;
  }
  EXPECT_EQ(ClassifyName(""), NameFilter::kHidden);
}

TEST(ClassifyNameTest, TempSuffixesAreSkipped) {
  for (const char* name : {"a.tmp", "a.csv.part", "a.swp", "x.csv.tmp"}) {
    EXPECT_EQ(ClassifyName(name), NameFilter::kTempSuffix) << name;
  }
}

TEST(ClassifyNameTest, SidecarsAreSkipped) {
  EXPECT_EQ(ClassifyName("a.csv.ok"), NameFilter::kSidecar);
  EXPECT_EQ(ClassifyName("b.ok"), NameFilter::kSidecar);
}

TEST(ClassifyNameTest, SuffixesAreCaseSensitive) {
  EXPECT_EQ(ClassifyName("a.TMP"), NameFilter::kCandidate);
  EXPECT_EQ(ClassifyName("a.OK"), NameFilter::kCandidate);
}

TEST(ClassifyNameTest, EveryFilterHasText) {
  EXPECT_STREQ(NameFilterText(NameFilter::kCandidate), "candidate");
  EXPECT_STREQ(NameFilterText(NameFilter::kHidden), "hidden name");
  EXPECT_STREQ(NameFilterText(NameFilter::kTempSuffix), "temporary suffix");
  EXPECT_STREQ(NameFilterText(NameFilter::kSidecar), ".ok sidecar");
}

}  // namespace
}  // namespace ingest
