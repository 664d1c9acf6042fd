#include "manifest_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class ManifestReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(env_->OpenDir(root_.path().string(), &root_dir_).ok()); }

  void Write(const std::string& hour, const std::string& content) {
    fs::create_directories(root_.path() / hour);
    WriteFile(root_.path() / hour / "manifest.jsonl", content);
  }

  std::vector<std::string> Hours(ManifestTree::Order order,
                                 ManifestTree::HourFilter wanted = nullptr) {
    ManifestTree tree(env_, root_dir_, order, std::move(wanted));
    std::vector<std::string> hours;
    for (;;) {
      ManifestFile m;
      bool done = false;
      Status s = tree.Next(&m, &done);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || done) return hours;
      EXPECT_EQ(m.file.path(), (root_.path() / m.hour / "manifest.jsonl").string());
      hours.push_back(m.hour);
    }
  }

  // The lines of the manifest of `hour`, and whether it ends torn.
  std::vector<std::string> Lines(const std::string& hour, bool* torn, std::string* tail = nullptr) {
    File dir, f;
    EXPECT_TRUE(env_->OpenDir((root_.path() / hour).string(), &dir).ok());
    EXPECT_TRUE(env_->OpenAt(dir, "manifest.jsonl", O_RDONLY, 0, &f).ok());
    ManifestLineReader reader(env_, f);
    std::vector<std::string> lines;
    for (;;) {
      ManifestLine line;
      bool done = false;
      Status s = reader.Next(&line, &done);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok() || done) break;
      EXPECT_EQ(line.number, lines.size() + 1);
      lines.emplace_back(line.text);
    }
    *torn = reader.torn_tail();
    if (tail != nullptr) *tail = std::string(reader.tail());
    return lines;
  }

  TempRoot root_{"manifest_reader_test"};
  Env* env_ = Env::Default();
  File root_dir_;
};

TEST_F(ManifestReaderTest, WalksHoursInTimeOrderEitherWay) {
  Write("2026/12/01/23", "a\n");
  Write("2025/01/31/00", "b\n");
  Write("2026/12/02/00", "c\n");
  Write("2026/02/10/07", "d\n");
  const std::vector<std::string> oldest{"2025/01/31/00", "2026/02/10/07", "2026/12/01/23",
                                        "2026/12/02/00"};
  EXPECT_EQ(Hours(ManifestTree::Order::kOldestFirst), oldest);
  EXPECT_EQ(Hours(ManifestTree::Order::kNewestFirst),
            std::vector<std::string>(oldest.rbegin(), oldest.rend()));
}

TEST_F(ManifestReaderTest, PassesOverHoursWithoutAManifestAndStrayFiles) {
  Write("2026/12/01/05", "a\n");
  fs::create_directories(root_.path() / "2026/12/01/06");  // an hour without records
  WriteFile(root_.path() / "2026/README", "not a directory\n");
  Write("lost+found/2026/12/01/07", "not a manifest of this tree\n");
  Write("2026/12/01/archive", "nor this\n");
  EXPECT_EQ(Hours(ManifestTree::Order::kOldestFirst), std::vector<std::string>{"2026/12/01/05"});
}

TEST_F(ManifestReaderTest, OpensOnlyTheHoursWanted) {
  Write("2026/11/30/23", "a\n");
  Write("2026/12/01/00", "b\n");
  Write("2026/12/02/00", "c\n");
  // Unreadable, but never opened: it is not wanted.
  fs::create_directories(root_.path() / "2026/12/03/00/manifest.jsonl");
  EXPECT_EQ(Hours(ManifestTree::Order::kOldestFirst,
                  [](std::string_view hour) { return hour.substr(0, 10) == "2026/12/01"; }),
            std::vector<std::string>{"2026/12/01/00"});
}

TEST_F(ManifestReaderTest, AnEmptyTreeHasNoManifests) {
  EXPECT_TRUE(Hours(ManifestTree::Order::kNewestFirst).empty());
}

TEST_F(ManifestReaderTest, ReadsCompleteLinesAndReportsATornTail) {
  Write("2026/12/01/05", "one\ntwo\n\nfour\nfive-torn");
  bool torn = false;
  std::string tail;
  EXPECT_EQ(Lines("2026/12/01/05", &torn, &tail),
            (std::vector<std::string>{"one", "two", "", "four"}));
  EXPECT_TRUE(torn);
  EXPECT_EQ(tail, "five-torn");
  Write("2026/12/01/06", "one\n");
  EXPECT_EQ(Lines("2026/12/01/06", &torn), std::vector<std::string>{"one"});
  EXPECT_FALSE(torn);
}

TEST_F(ManifestReaderTest, ReadsLinesAcrossItsReadChunks) {
  std::string content;
  std::vector<std::string> want;
  for (int i = 0; i < 3000; ++i) {
    want.push_back(std::string(static_cast<size_t>(i % 97), 'x') + std::to_string(i));
    content += want.back() + "\n";
  }
  ASSERT_GT(content.size(), size_t{2} << 16);  // more than two read chunks
  Write("2026/12/01/05", content);
  bool torn = true;
  EXPECT_EQ(Lines("2026/12/01/05", &torn), want);
  EXPECT_FALSE(torn);
}

}  // namespace
}  // namespace ingest
