#include "manifest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include "env_wrapper.h"
#include "manifest_writer.h"
#include "name_escape.h"
#include "test_support.h"

namespace ingest {
namespace {

using namespace std::string_literals;
namespace fs = std::filesystem;

constexpr std::string_view kHour = "2024/01/02/03";

ManifestRecord SampleRecord() {
  ManifestRecord r;
  r.path = "/warehouse/ingest_date=2024-01-02/a.csv";
  r.source = "/staging/a.csv";
  r.sha256 = std::string(64, 'b');
  r.device = 2049;
  r.inode = 123456;
  r.size = 42;
  r.mtime_ns = 1704157200123456789;
  r.ingested_at = "2024-01-02T03:04:05.678901Z";
  return r;
}

void ExpectSameRecord(const ManifestRecord& a, const ManifestRecord& b) {
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.device, b.device);
  EXPECT_EQ(a.inode, b.inode);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.mtime_ns, b.mtime_ns);
  EXPECT_EQ(a.ingested_at, b.ingested_at);
  EXPECT_EQ(a.reingest_of, b.reingest_of);
}

// A line is strict JSON on one line: valid UTF-8, no raw control
// characters, and exactly one '\n', at the end.
void ExpectOneStrictLine(const std::string& line) {
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_TRUE(IsValidUtf8(line)) << line;
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    EXPECT_GE(static_cast<uint8_t>(line[i]), 0x20) << "raw control byte at " << i << ": " << line;
  }
  EXPECT_EQ(line.front(), '{');
  EXPECT_EQ(line[line.size() - 2], '}');
}

ManifestRecord RoundTrip(const ManifestRecord& in) {
  const std::string line = FormatManifestLine(in);
  ExpectOneStrictLine(line);
  ManifestRecord out;
  EXPECT_TRUE(ParseManifestLine(line, &out)) << line;
  return out;
}

TEST(ManifestTest, PlainRecordRoundTrips) {
  const ManifestRecord in = SampleRecord();
  const std::string line = FormatManifestLine(in);
  ExpectOneStrictLine(line);
  EXPECT_EQ(line.find("escaped"), std::string::npos) << line;
  ExpectSameRecord(RoundTrip(in), in);
}

// The exact bytes, fields in this order and no spaces, are what downstream
// readers and earlier manifests have: a reader that compares lines, or
// splits them with a regex, keeps working.
TEST(ManifestTest, LineIsTheCompactJsonOfItsFieldsInOrder) {
  ManifestRecord r = SampleRecord();
  EXPECT_EQ(
      FormatManifestLine(r),
      "{\"path\":\"/warehouse/ingest_date=2024-01-02/a.csv\",\"source\":\"/staging/a.csv\","
      "\"sha256\":\"" +
          std::string(64, 'b') +
          "\",\"device\":2049,\"inode\":123456,\"size\":42,\"mtime\":1704157200,"
          "\"mtime_ns\":1704157200123456789,\"ingested_at\":\"2024-01-02T03:04:05.678901Z\"}\n");
  // Quotes, backslashes and control characters are escaped as JSON does.
  r.path = "/w/a \"q\" \\ \t\x01.csv";
  r.source = "/s/a \"q\" \\ \t\x01.csv";
  r.mtime_ns = -1;
  const std::string line = FormatManifestLine(r);
  EXPECT_NE(line.find(R"("path":"/w/a \"q\" \\ \t\u0001.csv")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("mtime":-1,"mtime_ns":-1,)"), std::string::npos) << line;
  ExpectSameRecord(RoundTrip(r), r);
}

TEST(ManifestTest, LineCarriesSecondsAndNanoseconds) {
  const std::string line = FormatManifestLine(SampleRecord());
  EXPECT_NE(line.find("\"mtime\":1704157200,"), std::string::npos) << line;
  EXPECT_NE(line.find("\"mtime_ns\":1704157200123456789"), std::string::npos) << line;
  EXPECT_NE(line.find("\"sha256\":\"" + std::string(64, 'b') + "\""), std::string::npos);
}

TEST(ManifestTest, ParseAcceptsLineWithoutItsNewline) {
  std::string line = FormatManifestLine(SampleRecord());
  line.pop_back();
  ManifestRecord out;
  ASSERT_TRUE(ParseManifestLine(line, &out));
  ExpectSameRecord(out, SampleRecord());
}

TEST(ManifestTest, NameWithNewlineQuoteAndBackslashRoundTripsOnOneLine) {
  ManifestRecord in = SampleRecord();
  in.path = "/warehouse/ingest_date=2024-01-02/a\nb\"c\\d\te\r\x01\x1f\x7f.csv";
  in.source = "/staging/a\nb\"c\\d\te\r\x01\x1f\x7f.csv";
  const std::string line = FormatManifestLine(in);
  // All UTF-8, so nothing needs the reversible escape.
  EXPECT_EQ(line.find("escaped"), std::string::npos) << line;
  ExpectSameRecord(RoundTrip(in), in);
}

TEST(ManifestTest, LiteralBackslashXInAUtf8NameIsNotDecoded) {
  ManifestRecord in = SampleRecord();
  in.path = "/warehouse/a\\xff.csv";
  in.source = "/staging/a\\xff.csv";
  ExpectSameRecord(RoundTrip(in), in);
}

TEST(ManifestTest, NonUtf8NameIsEscapedAndRoundTrips) {
  ManifestRecord in = SampleRecord();
  in.path = "/warehouse/ingest_date=2024-01-02/caf\xE9.csv";
  in.source = "/staging/caf\xE9\\x41\n.csv";
  const std::string line = FormatManifestLine(in);
  ExpectOneStrictLine(line);
  EXPECT_NE(line.find("\"escaped\":true"), std::string::npos) << line;
  EXPECT_NE(line.find("caf\\\\xe9.csv"), std::string::npos) << line;
  ExpectSameRecord(RoundTrip(in), in);
}

TEST(ManifestTest, OneNonUtf8PathEscapesBothPaths) {
  ManifestRecord in = SampleRecord();
  in.path = "/warehouse/back\\slash.csv";  // UTF-8, but shares the record
  in.source = "/staging/\xFF";
  const std::string line = FormatManifestLine(in);
  EXPECT_NE(line.find("back\\\\\\\\slash"), std::string::npos) << line;
  ExpectSameRecord(RoundTrip(in), in);
}

TEST(ManifestTest, AReingestNamesTheMissingFirstIngestAfterItsTime) {
  ManifestRecord in = SampleRecord();
  EXPECT_EQ(FormatManifestLine(in).find("reingest_of"), std::string::npos);
  in.reingest_of = "/warehouse/ingest_date=2024-01-01/a.csv";
  const std::string line = FormatManifestLine(in);
  EXPECT_NE(line.find("\"ingested_at\":\"2024-01-02T03:04:05.678901Z\",\"reingest_of\":\"/"
                      "warehouse/ingest_date=2024-01-01/a.csv\"}"),
            std::string::npos)
      << line;
  ExpectSameRecord(RoundTrip(in), in);
  // A name that is not UTF-8 there escapes the record's paths too.
  in.reingest_of = "/warehouse/ingest_date=2024-01-01/caf\xE9.csv";
  EXPECT_NE(FormatManifestLine(in).find("\"escaped\":true"), std::string::npos);
  ExpectSameRecord(RoundTrip(in), in);
  // Not a string: not a record.
  ManifestRecord out;
  EXPECT_FALSE(ParseManifestLine(
      R"({"path":"/w/a","source":"/s/a","sha256":"x","device":1,"inode":2,"size":3,"mtime":0,)"
      R"("mtime_ns":0,"ingested_at":"t","reingest_of":7})",
      &out));
}

TEST(ManifestTest, ExtremeNumbersRoundTrip) {
  ManifestRecord in = SampleRecord();
  in.device = std::numeric_limits<uint64_t>::max();
  in.inode = std::numeric_limits<uint64_t>::max() - 1;
  in.size = 0;
  in.mtime_ns = std::numeric_limits<int64_t>::max();
  ExpectSameRecord(RoundTrip(in), in);
}

// Disabled: FormatManifestLine writes a negative mtime_ns for a file dated
// before 1970, and ParseManifestLine reads mtime_ns as unsigned, so the
// line it wrote does not parse back (bug in manifest.cc, reported).
TEST(ManifestTest, MtimeBeforeTheEpochRoundTrips) {
  ManifestRecord in = SampleRecord();
  in.mtime_ns = -1500000000;
  ExpectSameRecord(RoundTrip(in), in);
}

TEST(ManifestTest, EveryPartialLineIsRejected) {
  ManifestRecord in = SampleRecord();
  in.source = "/staging/\xFF";  // include the "escaped" field
  const std::string line = FormatManifestLine(in);
  for (size_t n = 0; n + 1 < line.size(); ++n) {
    ManifestRecord out;
    EXPECT_FALSE(ParseManifestLine(line.substr(0, n), &out)) << line.substr(0, n);
  }
}

TEST(ManifestTest, GarbageIsRejected) {
  std::string good = FormatManifestLine(SampleRecord());
  good.pop_back();
  const std::string cases[] = {
      "",
      "\n",
      "null",
      "[]",
      "{}",
      "not json at all",
      "\"a string\"",
      good + good,         // two records glued together
      good + "\n" + good,  // two lines
      good + "garbage",
      "\x00\x00\x00\x00"s,  // zeros left by a power loss
  };
  for (const std::string& c : cases) {
    ManifestRecord out;
    EXPECT_FALSE(ParseManifestLine(c, &out)) << c;
  }
}

TEST(ManifestTest, MissingOrMistypedFieldIsRejected) {
  const std::string good = FormatManifestLine(SampleRecord());
  const std::string fields[] = {"\"path\"",  "\"source\"", "\"sha256\"",   "\"device\"",
                                "\"inode\"", "\"size\"",   "\"mtime_ns\"", "\"ingested_at\""};
  for (const std::string& field : fields) {
    std::string renamed = good;
    size_t at = renamed.find(field);
    ASSERT_NE(at, std::string::npos) << field;
    renamed.replace(at, field.size(), "\"other\"");
    ManifestRecord out;
    EXPECT_FALSE(ParseManifestLine(renamed, &out)) << renamed;
  }
  std::string mistyped = good;
  size_t at = mistyped.find("\"size\":42");
  ASSERT_NE(at, std::string::npos);
  mistyped.replace(at, 9, "\"size\":\"42\"");
  ManifestRecord out;
  EXPECT_FALSE(ParseManifestLine(mistyped, &out));
  std::string negative = good;
  at = negative.find("\"size\":42");
  negative.replace(at, 9, "\"size\":-42");
  EXPECT_FALSE(ParseManifestLine(negative, &out));
}

TEST(ManifestTest, MalformedEscapeInAnEscapedRecordIsRejected) {
  ManifestRecord in = SampleRecord();
  in.source = "/staging/\xFF";
  std::string line = FormatManifestLine(in);
  size_t at = line.find("\\\\xff");
  ASSERT_NE(at, std::string::npos) << line;
  line.replace(at, 5, "\\\\xzz");
  ManifestRecord out;
  EXPECT_FALSE(ParseManifestLine(line, &out)) << line;
}

// A temporary directory opened through the real Env.
class ManifestFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path().string();
    env_ = Env::Default();
    ASSERT_TRUE(env_->OpenDir(dir_, &root_).ok());
  }

  std::string ManifestPath(std::string_view hour) const {
    return dir_ + "/" + std::string(hour) + "/" + std::string(kManifestFileName);
  }
  std::string ReadAll(const std::string& path) const { return ReadFile(path); }
  void WriteAll(const std::string& path, const std::string& data) const {
    fs::create_directories(fs::path(path).parent_path());
    WriteFile(path, data);
  }
  File OpenFile(const std::string& name) {
    File f;
    EXPECT_TRUE(env_->OpenAt(root_, name, O_RDWR, 0, &f).ok());
    return f;
  }

  TempRoot tmp_{"manifest_test"};
  std::string dir_;
  Env* env_ = nullptr;
  File root_;
};

TEST_F(ManifestFileTest, TruncateTornTailCutsBytesAfterTheLastNewline) {
  WriteAll(dir_ + "/m", "one\ntwo\nthr");
  File f = OpenFile("m");
  bool repaired = false;
  ASSERT_TRUE(TruncateTornTail(env_, f, &repaired).ok());
  EXPECT_TRUE(repaired);
  EXPECT_EQ(ReadAll(dir_ + "/m"), "one\ntwo\n");
}

TEST_F(ManifestFileTest, TruncateTornTailLeavesACompleteFileAlone) {
  WriteAll(dir_ + "/m", "one\ntwo\n");
  File f = OpenFile("m");
  bool repaired = true;
  ASSERT_TRUE(TruncateTornTail(env_, f, &repaired).ok());
  EXPECT_FALSE(repaired);
  EXPECT_EQ(ReadAll(dir_ + "/m"), "one\ntwo\n");
}

TEST_F(ManifestFileTest, TruncateTornTailOfAnEmptyFileRepairsNothing) {
  WriteAll(dir_ + "/m", "");
  File f = OpenFile("m");
  bool repaired = true;
  ASSERT_TRUE(TruncateTornTail(env_, f, &repaired).ok());
  EXPECT_FALSE(repaired);
}

TEST_F(ManifestFileTest, TruncateTornTailWithoutAnyNewlineEmptiesTheFile) {
  WriteAll(dir_ + "/m", std::string(10000, 'x'));
  File f = OpenFile("m");
  bool repaired = false;
  ASSERT_TRUE(TruncateTornTail(env_, f, &repaired).ok());
  EXPECT_TRUE(repaired);
  EXPECT_EQ(ReadAll(dir_ + "/m"), "");
}

TEST_F(ManifestFileTest, TruncateTornTailFindsANewlineSeveralChunksBack) {
  // The torn tail is longer than one 4096-byte read, and the newline sits
  // right at a chunk boundary from the end.
  for (size_t tail : {size_t{4095}, size_t{4096}, size_t{4097}, size_t{9000}}) {
    const std::string good = "first\nsecond\n";
    WriteAll(dir_ + "/m", good + std::string(tail, 'z'));
    File f = OpenFile("m");
    bool repaired = false;
    ASSERT_TRUE(TruncateTornTail(env_, f, &repaired).ok());
    EXPECT_TRUE(repaired) << tail;
    EXPECT_EQ(ReadAll(dir_ + "/m"), good) << tail;
  }
}

TEST_F(ManifestFileTest, AppendCreatesTheHourDirectoryAndFile) {
  ManifestWriter w(env_, &root_);
  const std::string line = FormatManifestLine(SampleRecord());
  ASSERT_TRUE(w.Append(std::string(kHour), line).ok());
  ASSERT_TRUE(w.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath(kHour)), line);
}

TEST_F(ManifestFileTest, AppendAddsToTheEndOfAnExistingFile) {
  WriteAll(ManifestPath(kHour), "earlier\n");
  ManifestWriter w(env_, &root_);
  ASSERT_TRUE(w.Append(std::string(kHour), "one\ntwo\n").ok());
  ASSERT_TRUE(w.Append(std::string(kHour), "three\n").ok());
  ASSERT_TRUE(w.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath(kHour)), "earlier\none\ntwo\nthree\n");
}

TEST_F(ManifestFileTest, TornTailIsTruncatedBeforeAppend) {
  WriteAll(ManifestPath(kHour), "committed\n{\"path\":\"half-writ");
  ManifestWriter w(env_, &root_);
  ASSERT_TRUE(w.Append(std::string(kHour), "next\n").ok());
  ASSERT_TRUE(w.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath(kHour)), "committed\nnext\n");
}

TEST_F(ManifestFileTest, AppendsToSeveralHoursGoToTheirOwnFiles) {
  ManifestWriter w(env_, &root_);
  ASSERT_TRUE(w.Append("2024/01/02/03", "a\n").ok());
  ASSERT_TRUE(w.Append("2024/01/02/04", "b\n").ok());
  ASSERT_TRUE(w.Sync().ok());
  // After Sync only the newest hour stays open; the older one reopens.
  ASSERT_TRUE(w.Append("2024/01/02/03", "c\n").ok());
  ASSERT_TRUE(w.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath("2024/01/02/03")), "a\nc\n");
  EXPECT_EQ(ReadAll(ManifestPath("2024/01/02/04")), "b\n");
}

TEST_F(ManifestFileTest, SyncWithNothingAppendedSucceeds) {
  ManifestWriter w(env_, &root_);
  EXPECT_TRUE(w.Sync().ok());
}

TEST_F(ManifestFileTest, ContainsFindsWholeLinesOnly) {
  const std::string line = FormatManifestLine(SampleRecord());
  WriteAll(ManifestPath(kHour), "first\n" + line + "last\n");
  ManifestWriter w(env_, &root_);
  bool found = false;
  ASSERT_TRUE(w.Contains(std::string(kHour), line, &found).ok());
  EXPECT_TRUE(found);
  found = false;
  std::string bare = line;
  bare.pop_back();
  ASSERT_TRUE(w.Contains(std::string(kHour), bare, &found).ok());
  EXPECT_TRUE(found);
  ASSERT_TRUE(w.Contains(std::string(kHour), "first\n", &found).ok());
  EXPECT_TRUE(found);
  // A piece of a line is not a line.
  ASSERT_TRUE(w.Contains(std::string(kHour), "firs", &found).ok());
  EXPECT_FALSE(found);
  ASSERT_TRUE(w.Contains(std::string(kHour), line.substr(1), &found).ok());
  EXPECT_FALSE(found);
  ASSERT_TRUE(w.Contains(std::string(kHour), "first\n" + line, &found).ok());
  EXPECT_FALSE(found);
}

TEST_F(ManifestFileTest, ContainsIgnoresATornTail) {
  WriteAll(ManifestPath(kHour), "whole\ntorn");
  ManifestWriter w(env_, &root_);
  bool found = true;
  ASSERT_TRUE(w.Contains(std::string(kHour), "torn", &found).ok());
  EXPECT_FALSE(found);
  ASSERT_TRUE(w.Contains(std::string(kHour), "whole", &found).ok());
  EXPECT_TRUE(found);
}

TEST_F(ManifestFileTest, ContainsOnAMissingFileFindsNothing) {
  ManifestWriter w(env_, &root_);
  bool found = true;
  ASSERT_TRUE(w.Contains("2030/01/01/00", "anything", &found).ok());
  EXPECT_FALSE(found);
}

TEST_F(ManifestFileTest, ContainsSeesLinesAppendedByTheSameWriter) {
  ManifestWriter w(env_, &root_);
  ASSERT_TRUE(w.Append(std::string(kHour), "appended\n").ok());
  bool found = false;
  ASSERT_TRUE(w.Contains(std::string(kHour), "appended\n", &found).ok());
  EXPECT_TRUE(found);
}

TEST_F(ManifestFileTest, ContainsFindsALineAcrossReadBuffers) {
  // Lines that straddle the 64 KiB read buffer.
  std::string content;
  for (int i = 0; content.size() < 200000; ++i) {
    content += std::string(97, static_cast<char>('a' + i % 26)) + std::to_string(i) + "\n";
  }
  const std::string last = std::string(97, static_cast<char>('a' + 25)) + "x\n";
  WriteAll(ManifestPath(kHour), content + last);
  ManifestWriter w(env_, &root_);
  bool found = false;
  ASSERT_TRUE(w.Contains(std::string(kHour), last, &found).ok());
  EXPECT_TRUE(found);
  // Every line is found, whatever its offset.
  std::istringstream lines(content);
  std::string l;
  int checked = 0;
  while (std::getline(lines, l)) {
    if (++checked % 97 != 0) continue;
    ASSERT_TRUE(w.Contains(std::string(kHour), l, &found).ok());
    ASSERT_TRUE(found) << l;
  }
}

// The real filesystem, except that fdatasync fails while `fail_sync` is set.
class FailingSyncEnv final : public EnvWrapper {
 public:
  FailingSyncEnv() : EnvWrapper(Env::Default()) {}
  Status DataSync(const File& file) override {
    if (fail_sync) return Status::FromErrno("cannot sync " + file.path(), EIO);
    return EnvWrapper::DataSync(file);
  }
  bool fail_sync = false;
};

// Two instances on one manifest root: a rollback takes back only its own
// lines, never those another writer committed since this one opened the
// file.
TEST_F(ManifestFileTest, ARollbackNeverCutsAnotherWritersRecords) {
  const std::string hour = "2026/12/02/10";
  FailingSyncEnv failing;
  ManifestWriter a(&failing, &root_), b(env_, &root_);
  ASSERT_TRUE(a.Append(hour, "a1\n").ok());
  ASSERT_TRUE(a.Sync().ok());
  ASSERT_TRUE(b.Append(hour, "b1\nb2\n").ok());
  ASSERT_TRUE(b.Sync().ok());
  failing.fail_sync = true;
  ASSERT_TRUE(a.Append(hour, "a2\n").ok());
  EXPECT_FALSE(a.Sync().ok());
  a.Rollback();
  EXPECT_EQ(ReadAll(ManifestPath(hour)), "a1\nb1\nb2\n");
  ASSERT_TRUE(b.Append(hour, "b3\n").ok());
  ASSERT_TRUE(b.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath(hour)), "a1\nb1\nb2\nb3\n");
}

// An append holds the hour file from its write to its Sync: another
// writer's append waits, and never lands between them.
TEST_F(ManifestFileTest, AnAppendWaitsForAnotherWritersSync) {
  const std::string hour = "2026/12/02/11";
  ManifestWriter a(env_, &root_), b(env_, &root_);
  ASSERT_TRUE(a.Append(hour, "a1\n").ok());
  std::atomic<bool> b_done{false};
  std::thread other([&] {
    EXPECT_TRUE(b.Append(hour, "b1\n").ok());
    EXPECT_TRUE(b.Sync().ok());
    b_done = true;
  });
  // b cannot append while a holds the file; give it the chance to try.
  for (int i = 0; i < 20 && !b_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(b_done);
  ASSERT_TRUE(a.Append(hour, "a2\n").ok());
  ASSERT_TRUE(a.Sync().ok());
  other.join();
  EXPECT_EQ(ReadAll(ManifestPath(hour)), "a1\na2\nb1\n");
}

// The torn tail of a writer that died mid-append is repaired by the next
// writer to take the lock, whichever instance it is.
TEST_F(ManifestFileTest, ATornTailIsRepairedUnderTheLock) {
  const std::string hour = "2026/12/02/12";
  ManifestWriter a(env_, &root_);
  ASSERT_TRUE(a.Append(hour, "a1\n").ok());
  ASSERT_TRUE(a.Sync().ok());
  {
    std::ofstream torn(ManifestPath(hour), std::ios::app);
    torn << "{\"path\":\"/wh/x";
  }
  ManifestWriter b(env_, &root_);
  ASSERT_TRUE(b.Append(hour, "b1\n").ok());
  ASSERT_TRUE(b.Sync().ok());
  EXPECT_EQ(ReadAll(ManifestPath(hour)), "a1\nb1\n");
}

}  // namespace
}  // namespace ingest
