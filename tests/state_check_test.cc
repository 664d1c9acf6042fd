#include "state_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "manifest.h"
#include "mem_state_store.h"
#include "records.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class StateCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mf_ = tmp_.path() / "mf";
    fs::create_directories(mf_);
    ASSERT_TRUE(Env::Default()->OpenDir(mf_.string(), &root_).ok());
  }

  // A record of `name` staged in `input`, whose content is `sha` (one hex
  // digit, repeated); `pad` lengthens its source path.
  static std::string Record(const std::string& input, const std::string& name, char sha,
                            size_t pad = 0) {
    ManifestRecord r;
    r.source = input + "/" + std::string(pad, 'p') + name;
    r.path = "/wh/ingest_date=2026-12-02/" + name;
    r.sha256 = std::string(64, sha);
    r.size = 1;
    r.ingested_at = "2026-12-02T10:00:00.000000Z";
    return FormatManifestLine(r);
  }

  void Append(const std::string& hour, const std::string& text) {
    fs::create_directories(mf_ / hour);
    std::ofstream(mf_ / hour / "manifest.jsonl", std::ios::app) << text;
  }

  void Know(char sha) {
    ContentRecord rec{"/wh/x", "/in/x", "m", 1, 0};
    ASSERT_TRUE(
        state_.Apply({{keys::Content(std::string(64, sha)), EncodeContentRecord(rec)}}, true).ok());
  }

  Status Check() { return CheckStateAgainstManifests(Env::Default(), root_, kMine, &state_, "db"); }

  static constexpr const char* kMine = "/srv/staging-a";
  static constexpr const char* kOther = "/srv/staging-b";
  TempRoot tmp_{"state_check_test"};
  fs::path mf_;
  File root_;
  MemStateStore state_;
};

TEST_F(StateCheckTest, PassesWhenTheNewestOwnRecordIsKnown) {
  Append("2026/12/02/10", Record(kMine, "a", '1') + Record(kMine, "b", '2'));
  Know('2');
  EXPECT_TRUE(Check().ok());
}

TEST_F(StateCheckTest, FailsWhenTheNewestOwnRecordIsUnknown) {
  Append("2026/12/02/10", Record(kMine, "a", '1') + Record(kMine, "b", '2'));
  Know('1');
  Status s = Check();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.ToString().find(std::string(64, '2')), std::string::npos) << s.ToString();
}

TEST_F(StateCheckTest, OtherInstancesRecordsAreNotThisStatesConcern) {
  // Another instance's records, newer and unknown here, in the same file
  // and in a newer hour.
  Append("2026/12/02/10", Record(kMine, "a", '1') + Record(kOther, "b", '2'));
  Append("2026/12/02/11", Record(kOther, "c", '3'));
  Know('1');
  EXPECT_TRUE(Check().ok());
  // And a state that lost its own newest commit is still caught past them.
  MemStateStore empty;
  Status s = CheckStateAgainstManifests(Env::Default(), root_, kMine, &empty, "db");
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(StateCheckTest, OnlyOtherInstancesRecordsPass) {
  Append("2026/12/02/10", Record(kOther, "b", '2'));
  EXPECT_TRUE(Check().ok());
}

TEST_F(StateCheckTest, ReadsBackAcrossChunksAndPastALongTornTail) {
  std::string text = Record(kMine, "a", '1', /*pad=*/500);
  // Other writers' records, more than a read chunk of them, then a torn
  // tail longer than a chunk.
  for (int i = 0; i < 300; ++i) text += Record(kOther, "o" + std::to_string(i), '9', 500);
  text += std::string(100 * 1024, 'x');
  Append("2026/12/02/10", text);
  EXPECT_TRUE(Check().IsCorruption());
  Know('1');
  EXPECT_TRUE(Check().ok());
}

TEST_F(StateCheckTest, ManifestsHoldRecordsOfOneInputOnly) {
  Append("2026/12/02/10", Record(kOther, "b", '2'));
  EXPECT_FALSE(ManifestsHoldRecordsFrom(Env::Default(), mf_.string(), kMine));
  EXPECT_TRUE(ManifestsHoldRecordsFrom(Env::Default(), mf_.string(), kOther));
  Append("2026/12/01/10", Record(kMine, "a", '1'));
  EXPECT_TRUE(ManifestsHoldRecordsFrom(Env::Default(), mf_.string(), kMine));
  // A name that merely starts like the input is not in it.
  EXPECT_FALSE(ManifestsHoldRecordsFrom(Env::Default(), mf_.string(), "/srv/staging"));
}

}  // namespace
}  // namespace ingest
