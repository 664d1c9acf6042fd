#include "failure_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>

#include "mem_state_store.h"
#include "records.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class FailureLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    ASSERT_TRUE(env_->OpenDir(root_.string(), &dir_.file).ok());
    ASSERT_TRUE(env_->Stat(dir_.file, &dir_.st).ok());
  }

  FileStat Write(const std::string& name) {
    WriteFile(root_ / name, "content\n");
    FileStat st;
    EXPECT_TRUE(env_->StatAt(dir_.file, name, &st).ok());
    return st;
  }

  std::optional<FailureRecord> Find(const std::string& name) {
    std::optional<FailureRecord> r;
    Status s = FailureLog::Find(&state_, dir_.st.ino, name, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }

  int Records() {
    int n = 0;
    (void)state_.Scan(keys::kFailure, [&](std::string_view, std::string_view) {
      ++n;
      return true;
    });
    return n;
  }

  Env* env_ = Env::Default();
  TempRoot tmp_{"failure_log_test"};
  fs::path root_;
  StagingDir dir_;
  MemStateStore state_;
};

TEST_F(FailureLogTest, RecordHoldsPathErrorTimeAndIdentity) {
  const FileStat st = Write("a.csv");
  FailureLog log(&state_, /*writable=*/true);
  log.Record(dir_, "a.csv", &st, Status::IOError("cannot read a.csv: EIO"), 1234);
  EXPECT_FALSE(Find("a.csv")) << "written before Flush";
  log.Flush();
  std::optional<FailureRecord> r = Find("a.csv");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, (root_ / "a.csv").string());
  EXPECT_EQ(r->error, Status::IOError("cannot read a.csv: EIO").ToString());
  EXPECT_EQ(r->at_ns, 1234);
  EXPECT_EQ(r->attempts, 1u);
  EXPECT_EQ(r->dev, st.dev);
  EXPECT_EQ(r->ino, st.ino);
  EXPECT_TRUE(FailureLog::Describes(*r, st));
}

TEST_F(FailureLogTest, RepeatedFailuresOfOneFileAreCounted) {
  const FileStat st = Write("a.csv");
  {
    FailureLog log(&state_, true);
    log.Record(dir_, "a.csv", &st, Status::IOError("first"), 1);
    log.Record(dir_, "a.csv", &st, Status::IOError("second"), 2);  // before a flush
    log.Flush();
  }
  FailureLog next_pass(&state_, true);
  next_pass.Record(dir_, "a.csv", nullptr, Status::IOError("third"), 3);
  next_pass.Flush();
  std::optional<FailureRecord> r = Find("a.csv");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->attempts, 3u);
  EXPECT_EQ(r->at_ns, 3);
  EXPECT_NE(r->error.find("third"), std::string::npos);
  // Not examined this time: the record claims no identity.
  EXPECT_EQ(r->ino, 0u);
}

TEST_F(FailureLogTest, AnotherFileUnderTheSameNameStartsAgain) {
  FileStat st = Write("a.csv");
  FailureLog log(&state_, true);
  log.Record(dir_, "a.csv", &st, Status::IOError("old"), 1);
  log.Flush();
  FileStat other = st;
  other.ino += 1;
  EXPECT_FALSE(FailureLog::Describes(*Find("a.csv"), other));
  log.Record(dir_, "a.csv", &other, Status::IOError("new"), 2);
  log.Flush();
  EXPECT_EQ(Find("a.csv")->attempts, 1u);
}

TEST_F(FailureLogTest, ClearRemovesTheRecordOfACommittedFile) {
  const FileStat st = Write("a.csv");
  Write("b.csv");
  FailureLog log(&state_, true);
  log.Record(dir_, "a.csv", &st, Status::IOError("x"), 1);
  log.Flush();
  FailureLog committer(&state_, true);
  committer.Clear(dir_, "b.csv");  // never failed: nothing to do
  committer.Clear(dir_, "a.csv");
  committer.Flush();
  EXPECT_FALSE(Find("a.csv"));
  EXPECT_EQ(Records(), 0);
}

// A record of an older format no longer decodes; the commit of its file
// still removes it.
TEST_F(FailureLogTest, ClearRemovesARecordItCannotDecode) {
  Write("a.csv");
  ASSERT_TRUE(state_
                  .Apply({{keys::Failure(dir_.st.ino, "a.csv"), std::string("\x01old")}},
                         /*sync=*/false)
                  .ok());
  FailureLog committer(&state_, true);
  committer.Clear(dir_, "a.csv");
  committer.Flush();
  EXPECT_EQ(Records(), 0);
}

TEST_F(FailureLogTest, ClearSeesWhatTheSameLogNotedAfterLearningTheDirectoryWasClean) {
  const FileStat st = Write("a.csv");
  FailureLog log(&state_, true);
  log.Clear(dir_, "b.csv");  // the directory has no records yet
  log.Record(dir_, "a.csv", &st, Status::IOError("x"), 1);
  log.Flush();
  log.Clear(dir_, "a.csv");
  log.Flush();
  EXPECT_EQ(Records(), 0);
}

TEST_F(FailureLogTest, PruneDropsFilesThatLeftOrWereReplaced) {
  const FileStat stays = Write("stays.csv");
  const FileStat leaves = Write("leaves.csv");
  const FileStat replaced = Write("replaced.csv");
  FailureLog log(&state_, true);
  log.Record(dir_, "stays.csv", &stays, Status::IOError("x"), 1);
  log.Record(dir_, "unexamined.csv", nullptr, Status::IOError("x"), 1);
  log.Record(dir_, "leaves.csv", &leaves, Status::IOError("x"), 1);
  log.Record(dir_, "replaced.csv", &replaced, Status::IOError("x"), 1);
  log.Flush();
  Write("unexamined.csv");
  fs::remove(root_ / "leaves.csv");
  // Written while the old one still exists, so it is another inode.
  Write("replacement.csv");
  fs::rename(root_ / "replacement.csv", root_ / "replaced.csv");
  log.Prune(env_, dir_);
  log.Flush();
  EXPECT_TRUE(Find("stays.csv"));
  EXPECT_TRUE(Find("unexamined.csv"));
  EXPECT_FALSE(Find("leaves.csv"));
  EXPECT_FALSE(Find("replaced.csv"));
}

TEST_F(FailureLogTest, DryRunWritesNothing) {
  const FileStat st = Write("a.csv");
  FailureLog log(&state_, /*writable=*/false);
  log.Record(dir_, "a.csv", &st, Status::IOError("x"), 1);
  log.Flush();
  EXPECT_EQ(Records(), 0);
}

TEST_F(FailureLogTest, RecordsAreUnsyncedHints) {
  const FileStat st = Write("a.csv");
  FailureLog log(&state_, true);
  log.Record(dir_, "a.csv", &st, Status::IOError("x"), 1);
  log.Flush();
  EXPECT_TRUE(Find("a.csv"));
  state_.DropUnsynced();
  EXPECT_FALSE(Find("a.csv"));
}

TEST_F(FailureLogTest, AnyInLooksOnlyAtItsDirectory) {
  const FileStat st = Write("a.csv");
  bool any = true;
  ASSERT_TRUE(FailureLog::AnyIn(&state_, dir_.st.ino, &any).ok());
  EXPECT_FALSE(any);
  StagingDir other;
  other.st.dev = dir_.st.dev;
  other.st.ino = dir_.st.ino + 1;
  FailureLog log(&state_, true);
  log.Record(other, "a.csv", &st, Status::IOError("x"), 1);
  log.Flush();
  ASSERT_TRUE(FailureLog::AnyIn(&state_, dir_.st.ino, &any).ok());
  EXPECT_FALSE(any);
  ASSERT_TRUE(FailureLog::AnyIn(&state_, other.st.ino, &any).ok());
  EXPECT_TRUE(any);
}

TEST_F(FailureLogTest, UndecodableRecordReadsAsAbsent) {
  ASSERT_TRUE(state_.Apply({{keys::Failure(dir_.st.ino, "a.csv"), "junk"}}, false).ok());
  EXPECT_FALSE(Find("a.csv"));
}

TEST_F(FailureLogTest, OutlookTellsErrorsThatRecurFromThoseThatPass) {
  const FileStat st = Write("a.csv");
  const struct {
    Status error;
    FailureOutlook outlook;
  } cases[] = {
      {Status::FromErrno("cannot open a.csv", EACCES), FailureOutlook::kRecurs},
      {Status::FromErrno("cannot move a.csv", EPERM), FailureOutlook::kRecurs},
      {Status::FromErrno("cannot copy a.csv", ENOSPC), FailureOutlook::kRecurs},
      {Status::FromErrno("cannot move a.csv", EROFS), FailureOutlook::kRecurs},
      {Status::FromErrno("cannot move a.csv", ENAMETOOLONG), FailureOutlook::kRecurs},
      {Status::FromErrno("cannot read a.csv", EIO), FailureOutlook::kRecurs},
      {Status::Corruption("checksum mismatch for a.csv"), FailureOutlook::kRecurs},
      {Status::IOError("a.csv was replaced or written to while being moved", EAGAIN),
       FailureOutlook::kPasses},
      {Status::FromErrno("cannot open a.csv", ENOENT), FailureOutlook::kPasses},
      {Status::IOError("no errno"), FailureOutlook::kUnknown},
      {Status::FromErrno("cannot move a.csv", EXDEV), FailureOutlook::kUnknown},
  };
  for (const auto& c : cases) {
    FailureLog log(&state_, true);
    log.Record(dir_, "a.csv", &st, c.error, 1);
    log.Flush();
    std::optional<FailureRecord> r = Find("a.csv");
    ASSERT_TRUE(r);
    EXPECT_EQ(FailureLog::Outlook(*r), c.outlook) << c.error.ToString();
  }
  // A record that knows no code tells nothing.
  EXPECT_EQ(FailureLog::Outlook(FailureRecord{}), FailureOutlook::kUnknown);
}

}  // namespace
}  // namespace ingest
