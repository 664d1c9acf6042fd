#include "history.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "clock.h"
#include "manifest.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

int64_t At(const char* utc) {
  int64_t ns = 0;
  EXPECT_TRUE(ParseUtcTime(utc, /*end_of_day=*/false, &ns)) << utc;
  return ns;
}

class HistoryTest : public ::testing::Test {
 protected:
  // A record of `name` (`size` bytes) ingested at `utc`, appended to the
  // manifest of its hour as a pass writes it.
  ManifestRecord Add(const std::string& name, uint64_t size, const char* utc) {
    const UtcTime t(At(utc));
    ManifestRecord r;
    r.path = "/wh/ingest_date=" + t.Date() + "/" + name;
    r.source = "/in/" + name;
    r.sha256 = std::string(64, 'a');
    r.size = size;
    r.ingested_at = t.Rfc3339();
    Append(t.HourPath(), FormatManifestLine(r));
    return r;
  }

  void Append(const std::string& hour, const std::string& text) {
    fs::create_directories(root_.path() / hour);
    const fs::path file = root_.path() / hour / "manifest.jsonl";
    WriteFile(file, ReadFile(file) + text);
  }

  // What history prints, text or json, and its figures.
  std::string Run(const HistoryRange& range, bool json = false) {
    std::string out;
    stats_ = HistoryStats{};
    Status s = History(
        Env::Default(), root_.path().string(), range, json,
        [&](std::string_view line) { out += line; }, &stats_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  TempRoot root_{"history_test"};
  HistoryStats stats_;
};

TEST_F(HistoryTest, WithoutBoundsTheRangeIsTodayInUtc) {
  const HistoryRange r = HistoryRangeOf("", "", At("2026-12-03T08:15:00Z"));
  EXPECT_FALSE(r.open_since);
  EXPECT_FALSE(r.open_until);
  EXPECT_EQ(r.since_ns, At("2026-12-03T00:00Z"));
  EXPECT_EQ(r.until_ns, At("2026-12-04T00:00Z") - 1);
}

TEST_F(HistoryTest, ADateIsItsWholeDayATimeOneInstantAMissingBoundIsOpen) {
  const int64_t now = At("2026-12-03T08:15:00Z");
  HistoryRange r = HistoryRangeOf("2026-12-01", "2026-12-02", now);
  EXPECT_EQ(r.since_ns, At("2026-12-01T00:00Z"));
  EXPECT_EQ(r.until_ns, At("2026-12-03T00:00Z") - 1);
  r = HistoryRangeOf("2026-12-01T10:30Z", "2026-12-01T11:00:05Z", now);
  EXPECT_EQ(r.since_ns, At("2026-12-01T10:30:00Z"));
  EXPECT_EQ(r.until_ns, At("2026-12-01T11:00:05Z"));
  r = HistoryRangeOf("2026-12-01", "", now);
  EXPECT_FALSE(r.open_since);
  EXPECT_TRUE(r.open_until);
  r = HistoryRangeOf("", "2026-12-01", now);
  EXPECT_TRUE(r.open_since);
  EXPECT_FALSE(r.open_until);
}

TEST_F(HistoryTest, ListsTheRecordsInRangeOldestFirst) {
  Add("early.csv", 1, "2026-12-01T09:59:59.999999Z");
  const ManifestRecord a = Add("a.csv", 10, "2026-12-01T10:00:00Z");
  const ManifestRecord b = Add("b.csv", 200, "2026-12-01T10:59:00Z");
  const ManifestRecord c = Add("c.csv", 3000, "2026-12-01T11:30:00Z");
  Add("late.csv", 4, "2026-12-02T00:00:00Z");
  const std::string text =
      Run(HistoryRangeOf("2026-12-01T10:00Z", "2026-12-01", At("2026-12-03T00:00Z")));
  EXPECT_EQ(text, HistoryLine(a) + HistoryLine(b) + HistoryLine(c));
  EXPECT_EQ(stats_.files, 3u);
  EXPECT_EQ(stats_.bytes, 3210u);
  EXPECT_EQ(stats_.bad_lines, 0u);
}

TEST_F(HistoryTest, OpensOnlyTheHoursInRange) {
  const ManifestRecord a = Add("a.csv", 10, "2026-12-01T10:20:00Z");
  // Unreadable as a manifest, but outside the range: never opened.
  fs::create_directories(root_.path() / "2026/12/01/09/manifest.jsonl");
  fs::create_directories(root_.path() / "2026/12/01/12/manifest.jsonl");
  EXPECT_EQ(Run(HistoryRangeOf("2026-12-01T10:00Z", "2026-12-01T11:59:59Z", 0)), HistoryLine(a));
}

TEST_F(HistoryTest, JsonGivesTheManifestLinesAsTheyAre) {
  const ManifestRecord a = Add("a.csv", 10, "2026-12-01T10:20:00Z");
  ManifestRecord again = a;
  again.path = "/wh/ingest_date=2026-12-01/a.aaaaaaaaaaaa.csv";
  again.reingest_of = a.path;
  again.ingested_at = "2026-12-01T10:40:00.000000Z";
  Append("2026/12/01/10", FormatManifestLine(again));
  EXPECT_EQ(Run(HistoryRangeOf("2026-12-01", "", 0), /*json=*/true),
            FormatManifestLine(a) + FormatManifestLine(again));
}

TEST_F(HistoryTest, TextIsTabSeparatedAndNamesAReingest) {
  ManifestRecord r;
  r.path = "/wh/ingest_date=2026-12-01/a\tb.csv";
  r.source = "/in/a\tb.csv";
  r.size = 12;
  r.ingested_at = "2026-12-01T10:20:00.000000Z";
  EXPECT_EQ(HistoryLine(r),
            "2026-12-01T10:20:00.000000Z\t12\t/wh/ingest_date=2026-12-01/a\\x09b.csv\t"
            "/in/a\\x09b.csv\n");
  r.reingest_of = "/wh/ingest_date=2026-11-30/a.csv";
  EXPECT_EQ(HistoryLine(r),
            "2026-12-01T10:20:00.000000Z\t12\t/wh/ingest_date=2026-12-01/a\\x09b.csv\t"
            "/in/a\\x09b.csv\treingest of /wh/ingest_date=2026-11-30/a.csv\n");
}

TEST_F(HistoryTest, PassesOverGarbageAndATornTail) {
  const ManifestRecord a = Add("a.csv", 10, "2026-12-01T10:20:00Z");
  Append("2026/12/01/10", "not json\n");
  const ManifestRecord b = Add("b.csv", 20, "2026-12-01T10:30:00Z");
  Append("2026/12/01/10", FormatManifestLine(a).substr(0, 40));  // a batch cut short
  EXPECT_EQ(Run(HistoryRangeOf("2026-12-01", "2026-12-01", 0)), HistoryLine(a) + HistoryLine(b));
  EXPECT_EQ(stats_.files, 2u);
  EXPECT_EQ(stats_.bad_lines, 1u);
}

TEST_F(HistoryTest, AMissingRootHasNoRecords) {
  std::string out;
  HistoryStats stats;
  EXPECT_TRUE(History(
                  Env::Default(), (root_.path() / "none").string(), HistoryRangeOf("", "", 0),
                  false, [&](std::string_view l) { out += l; }, &stats)
                  .ok());
  EXPECT_EQ(out, "");
  EXPECT_EQ(stats.files, 0u);
}

TEST_F(HistoryTest, TheSummarySaysHowManyFilesAndBytesInWhichRange) {
  HistoryStats st;
  st.files = 1;
  st.bytes = 1;
  EXPECT_EQ(HistorySummary(st, HistoryRangeOf("2026-12-01", "2026-12-01T10:00Z", 0)),
            "1 file, 1 byte, ingested from 2026-12-01T00:00:00.000000Z to "
            "2026-12-01T10:00:00.000000Z\n");
  st.files = 3;
  st.bytes = 112;
  st.bad_lines = 2;
  EXPECT_EQ(HistorySummary(st, HistoryRangeOf("2026-12-01", "", 0)),
            "3 files, 112 bytes, ingested since 2026-12-01T00:00:00.000000Z; 2 manifest lines "
            "not a record, ignored\n");
  st.bad_lines = 0;
  EXPECT_EQ(HistorySummary(st, HistoryRangeOf("", "2026-12-01", 0)),
            "3 files, 112 bytes, ingested up to 2026-12-01T23:59:59.999999Z\n");
}

}  // namespace
}  // namespace ingest
