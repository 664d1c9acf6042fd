#include "status_report.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "failure_log.h"
#include "intent_journal.h"
#include "mem_state_store.h"
#include "records.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr int64_t kSec = kNanosPerSecond;

class StatusReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    fs::create_directory(root_ / "in");
    fs::create_directory(root_ / "db");
    options_.input = (root_ / "in").string();
    options_.state_path = root_.string();
    options_.stability_seconds = 60;
  }

  // Stages a file; returns the newer of its mtime and ctime.
  int64_t Stage(const std::string& name, const std::string& content = "x\n") {
    WriteFile(root_ / "in" / name, content);
    FileStat st;
    File dir;
    EXPECT_TRUE(env_->OpenDir(options_.input, &dir).ok());
    EXPECT_TRUE(env_->StatAt(dir, name, &st).ok());
    newest_of_[(root_ / "in" / name).string()] = std::max(st.mtime_ns, st.ctime_ns);
    newest_ = std::max({newest_, st.mtime_ns, st.ctime_ns});
    return newest_;
  }

  StatusReport Gather(int64_t now_ns, bool db_exists = false) {
    ManualClock clock(now_ns);
    StatusReport r;
    Status s =
        GatherStatus(options_, env_, &clock, &state_, (root_ / "db").string(), db_exists, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r;
  }

  Env* env_ = Env::Default();
  TempRoot tmp_{"status_report_test"};
  fs::path root_;
  Options options_;
  MemStateStore state_;
  int64_t newest_ = 0;
  std::map<std::string, int64_t> newest_of_;  // by path
};

TEST_F(StatusReportTest, EveryEntryLandsInOneGroup) {
  Stage("a.csv");
  Stage("b.csv");
  Stage(".hidden");
  Stage("c.csv.tmp");
  fs::create_directory(root_ / "in" / "sub");
  const int64_t now = newest_ + 10 * kSec;
  StatusReport r = Gather(now);
  EXPECT_EQ(r.unstable.count, 2u);
  ASSERT_EQ(r.unstable.files.size(), 2u);
  for (const PendingFile& f : r.unstable.files) {
    EXPECT_EQ(f.wait_ns, 60 * kSec - (now - newest_of_[f.path])) << f.path;
    EXPECT_EQ(f.first_seen_ns, 0) << f.path << ": no pass has seen it";
  }
  EXPECT_EQ(r.ready.count, 0u);
  EXPECT_EQ(r.failed.count, 0u);
  EXPECT_EQ(r.sidecar.count, 0u);
  EXPECT_EQ(r.skipped, 3u);
  // Nothing was written: status changes nothing, not even stability hints.
  int records = 0;
  (void)state_.Scan("", [&](std::string_view, std::string_view) {
    ++records;
    return true;
  });
  EXPECT_EQ(records, 0);

  r = Gather(newest_ + 61 * kSec);
  EXPECT_EQ(r.ready.count, 2u);
  EXPECT_STREQ(r.ready.files[0].evidence, "timestamps");
  EXPECT_EQ(r.unstable.count, 0u);
}

TEST_F(StatusReportTest, SubdirectoriesCountOnlyWhenRecursive) {
  fs::create_directory(root_ / "in" / "sub");
  Stage("sub/deep.csv");
  Stage("top.csv");
  StatusReport r = Gather(newest_ + 61 * kSec);
  EXPECT_EQ(r.ready.count, 1u);
  options_.recursive = true;
  r = Gather(newest_ + 61 * kSec);
  EXPECT_EQ(r.ready.count, 2u);
  EXPECT_TRUE(r.recursive);
}

TEST_F(StatusReportTest, GroupsKeepAtMostTheLimitButCountEverything) {
  for (int i = 0; i < 7; ++i) Stage("f" + std::to_string(i) + ".csv");
  options_.limit = 3;
  StatusReport r = Gather(newest_);
  EXPECT_EQ(r.unstable.count, 7u);
  EXPECT_EQ(r.unstable.files.size(), 3u);
  const std::string text = StatusText(r);
  EXPECT_NE(text.find("not yet stable: 7"), std::string::npos) << text;
  EXPECT_NE(text.find("... and 4 more"), std::string::npos) << text;
  json::object doc = json::parse(StatusJson(r)).as_object();
  const json::object& group = doc["groups"].as_object().at("not_yet_stable").as_object();
  EXPECT_EQ(group.at("count").to_number<uint64_t>(), 7u);
  EXPECT_EQ(group.at("files").as_array().size(), 3u);
  EXPECT_EQ(group.at("more").to_number<uint64_t>(), 4u);

  options_.limit = 0;
  EXPECT_EQ(Gather(newest_).unstable.files.size(), 7u);
}

TEST_F(StatusReportTest, SidecarModeWaitsForOk) {
  options_.mode = Mode::kSidecar;
  Stage("a.csv");
  Stage("b.csv");
  Stage("b.csv.ok", "");
  StatusReport r = Gather(newest_);
  EXPECT_EQ(r.sidecar.count, 1u);
  EXPECT_EQ(r.sidecar.files[0].path, (root_ / "in" / "a.csv").string());
  EXPECT_EQ(r.ready.count, 1u);
  EXPECT_EQ(r.skipped, 1u);  // the .ok itself
  EXPECT_EQ(r.unstable.count, 0u);
}

TEST_F(StatusReportTest, TheBacklogCountsFilesAndBytesPerGroupAndNamesTheOldest) {
  Stage("old.csv", "1234567");  // written first: the oldest ctime
  FileStat old_st;
  File dir;
  ASSERT_TRUE(env_->OpenDir(options_.input, &dir).ok());
  ASSERT_TRUE(env_->StatAt(dir, "old.csv", &old_st).ok());
  // Past the kernel's timestamp granularity (a jiffy), so the ctimes differ.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Stage("new.csv", "12");
  Stage(".hidden", "never a candidate");
  StatusReport r = Gather(newest_ + 10 * kSec);
  EXPECT_EQ(r.backlog.not_yet_stable.files, 2u);
  EXPECT_EQ(r.backlog.not_yet_stable.bytes, 9u);
  EXPECT_EQ(r.backlog.files(), 2u);
  EXPECT_EQ(r.backlog.bytes(), 9u);
  EXPECT_EQ(r.backlog.oldest_path, (root_ / "in" / "old.csv").string());
  EXPECT_EQ(r.backlog.oldest_ctime_ns, old_st.ctime_ns);
  EXPECT_EQ(r.backlog_age_ns, newest_ + 10 * kSec - old_st.ctime_ns);

  const std::string text = StatusText(r);
  EXPECT_NE(text.find("backlog: 2 files, 9 bytes (not yet stable: 2, 9 bytes; waiting for .ok: "
                      "0, 0 bytes; failed: 0, 0 bytes; ready: 0, 0 bytes)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("oldest waiting: " + (root_ / "in" / "old.csv").string() + ", "),
            std::string::npos)
      << text;
  json::object doc = json::parse(StatusJson(r)).as_object();
  EXPECT_EQ(doc["groups"].as_object().at("not_yet_stable").at("bytes").to_number<uint64_t>(), 9u);
  EXPECT_EQ(doc["groups"].as_object().at("ready").at("bytes").to_number<uint64_t>(), 0u);
  const json::object& backlog = doc["backlog"].as_object();
  EXPECT_EQ(backlog.at("files").to_number<uint64_t>(), 2u);
  EXPECT_EQ(backlog.at("bytes").to_number<uint64_t>(), 9u);
  const json::object& oldest = backlog.at("oldest").as_object();
  EXPECT_EQ(oldest.at("path").as_string(), (root_ / "in" / "old.csv").string());
  EXPECT_EQ(oldest.at("changed").as_string(), UtcTime(old_st.ctime_ns).Rfc3339());

  // Once stable, the same files are the ready group's backlog.
  r = Gather(newest_ + 61 * kSec);
  EXPECT_EQ(r.backlog.ready.files, 2u);
  EXPECT_EQ(r.backlog.ready.bytes, 9u);
  EXPECT_EQ(r.backlog.not_yet_stable.files, 0u);
}

TEST_F(StatusReportTest, AnEmptyStagingHasNoOldestFile) {
  StatusReport r = Gather(Clock::Real()->NowNs());
  EXPECT_EQ(r.backlog.files(), 0u);
  EXPECT_NE(StatusText(r).find("oldest waiting: none\n"), std::string::npos);
  json::object doc = json::parse(StatusJson(r)).as_object();
  EXPECT_TRUE(doc["backlog"].as_object().at("oldest").is_null());
}

TEST_F(StatusReportTest, ReadyFileThatFailedLastTimeIsFailed) {
  Stage("bad.csv");
  Stage("good.csv");
  File dir_file;
  ASSERT_TRUE(env_->OpenDir(options_.input, &dir_file).ok());
  StagingDir dir;
  ASSERT_TRUE(env_->Stat(dir_file, &dir.st).ok());
  dir.file = std::move(dir_file);
  FileStat st;
  ASSERT_TRUE(env_->StatAt(dir.file, "bad.csv", &st).ok());
  FailureLog log(&state_, true);
  log.Record(dir, "bad.csv", &st, Status::Corruption("checksum mismatch for bad.csv"), 77 * kSec);
  log.Record(dir, "bad.csv", &st, Status::Corruption("checksum mismatch for bad.csv"), 78 * kSec);
  log.Flush();

  StatusReport r = Gather(newest_ + 61 * kSec);
  EXPECT_EQ(r.ready.count, 1u);
  ASSERT_EQ(r.failed.count, 1u);
  const PendingFile& f = r.failed.files[0];
  EXPECT_EQ(f.path, (root_ / "in" / "bad.csv").string());
  EXPECT_NE(f.error.find("checksum mismatch for bad.csv"), std::string::npos) << f.error;
  EXPECT_EQ(f.failed_at_ns, 78 * kSec);
  EXPECT_EQ(f.attempts, 2u);
  const std::string text = StatusText(r);
  EXPECT_NE(text.find("2 attempts"), std::string::npos) << text;

  // Still waiting for its window: it waits, whatever failed before.
  r = Gather(newest_);
  EXPECT_EQ(r.failed.count, 0u);
  EXPECT_EQ(r.unstable.count, 2u);
}

TEST_F(StatusReportTest, StateIsMeasuredAndCountedByPrefix) {
  std::ofstream(root_ / "db" / "000001.log", std::ios::binary) << std::string(100, 'x');
  std::ofstream(root_ / "db" / "CURRENT", std::ios::binary) << std::string(16, 'x');
  ASSERT_TRUE(state_
                  .Apply({{keys::Content(std::string(64, 'a')), "v"},
                          {keys::Content(std::string(64, 'b')), "v"},
                          {keys::Intent("1"), "v"},
                          {keys::Snapshot(2, 3, "x"), "v"},
                          {keys::Failure(2, "x"), "v"},
                          {std::string(keys::kLastPass), "{\"files_ingested\":3}"},
                          {"zz", "v"}},
                         false)
                  .ok());
  StatusReport r = Gather(0, /*db_exists=*/true);
  EXPECT_EQ(r.state.bytes, 116u);
  EXPECT_EQ(r.state.records.at("c/"), 2u);
  EXPECT_EQ(r.state.records.at("i/"), 1u);
  EXPECT_EQ(r.state.records.at("s/"), 1u);
  EXPECT_EQ(r.state.records.at("f/"), 1u);
  EXPECT_EQ(r.state.records.at("m/"), 1u);
  EXPECT_EQ(r.state.records.at("other"), 1u);
  EXPECT_EQ(r.state.last_pass, "{\"files_ingested\":3}");
  json::object doc = json::parse(StatusJson(r)).as_object();
  EXPECT_EQ(doc["last_pass"].as_object().at("files_ingested").as_int64(), 3);
  const json::object& state = doc["state"].as_object();
  EXPECT_EQ(state.at("bytes").to_number<uint64_t>(), 116u);
  EXPECT_EQ(state.at("records").as_object().at("c").to_number<uint64_t>(), 2u);
  EXPECT_TRUE(state.at("exists").as_bool());
  EXPECT_EQ(state.at("journal_open").to_number<uint64_t>(), 0u);
}

TEST_F(StatusReportTest, IntentsOfUnfinishedBatchesInTheJournalAreCounted) {
  File dir;
  ASSERT_TRUE(env_->OpenDir(root_.string(), &dir).ok());
  {
    IntentJournal journal(env_, &state_, UINT64_MAX);
    ASSERT_TRUE(journal.Open(dir).ok());
    size_t moved = 0;
    ASSERT_TRUE(journal.MoveOpenToState(&moved).ok());
    Intent a, b;
    uint64_t batch = 0;
    ASSERT_TRUE(journal.Append({{"1", &a}, {"2", &b}}, /*sync=*/true, &batch).ok());
  }
  StatusReport r = Gather(0, /*db_exists=*/true);
  EXPECT_EQ(r.state.journal_open, 2u);
  EXPECT_NE(StatusText(r).find("0 open commits (i/), 2 in the intent journal"), std::string::npos)
      << StatusText(r);
}

TEST_F(StatusReportTest, WithoutADatabaseTheStateIsReportedMissing) {
  StatusReport r = Gather(0);
  EXPECT_FALSE(r.state.exists);
  EXPECT_NE(StatusText(r).find("none yet"), std::string::npos);
  json::object doc = json::parse(StatusJson(r)).as_object();
  EXPECT_TRUE(doc["last_pass"].is_null());
  EXPECT_FALSE(doc["state"].as_object().at("exists").as_bool());
}

TEST_F(StatusReportTest, NamesThatAreNotUtf8AreEscapedInJson) {
  Stage("bad\xff.csv");
  StatusReport r = Gather(newest_);
  ASSERT_EQ(r.unstable.count, 1u);
  const std::string doc_text = StatusJson(r);
  boost::system::error_code ec;
  json::value doc = json::parse(doc_text, ec);
  ASSERT_FALSE(ec) << doc_text;
  const json::object& file =
      doc.at("groups").at("not_yet_stable").at("files").as_array()[0].as_object();
  EXPECT_EQ(file.at("path").as_string(), (root_ / "in" / "bad\\xff.csv").string());
  EXPECT_TRUE(file.at("escaped").as_bool());
  EXPECT_NE(StatusText(r).find("bad\\xff.csv"), std::string::npos);
}

}  // namespace
}  // namespace ingest
