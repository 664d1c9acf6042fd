#include "claims.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "env.h"
#include "fs_util.h"
#include "ingest_pass.h"
#include "manifest.h"
#include "mem_state_store.h"
#include "records.h"
#include "sha256.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

const std::string kSha = std::string(64, 'a');
const std::string kSha2 = std::string(64, 'b');
const std::string kSha3 = std::string(64, 'c');
const std::string kOwnerA = std::string(32, '1');
const std::string kOwnerB = std::string(32, '2');
const std::string kOwnerC = std::string(32, '3');
const std::string kPath = "ingest_date=2026-12-02/my report.csv";

Claim MakeClaim(const std::string& owner, const std::string& intent,
                const std::string& sha = kSha) {
  return Claim{sha, owner, intent, 5, kPath};
}

// The record's line, without its newline.
std::string Line(const ClaimRecord& r) {
  std::string line = EncodeClaimRecord(r);
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

// `body` with the check a record carries: a line that is well formed
// whatever its fields hold.
std::string Signed(const std::string& body) {
  return body + " " + Sha256::HexOf(body).substr(0, 16);
}

ClaimRecord TakeRecord(const Claim& c, std::optional<Claim> replaces = std::nullopt) {
  ClaimRecord r;
  r.op = ClaimRecord::Op::kTake;
  r.claim = c;
  r.replaces = std::move(replaces);
  return r;
}

ClaimRecord ReleaseRecord(const Claim& c) {
  ClaimRecord r;
  r.op = ClaimRecord::Op::kRelease;
  r.claim = c;
  return r;
}

::testing::AssertionResult SameClaim(const std::optional<Claim>& got, const Claim& want) {
  if (!got)
    return ::testing::AssertionFailure() << "no claim, want " << want.owner << "/" << want.intent;
  if (got->sha256 != want.sha256 || got->owner != want.owner || got->intent != want.intent ||
      got->size != want.size || got->path != want.path) {
    return ::testing::AssertionFailure()
           << "claim " << got->sha256 << " " << got->owner << "/" << got->intent << " " << got->size
           << " \"" << got->path << "\", want " << want.sha256 << " " << want.owner << "/"
           << want.intent << " " << want.size << " \"" << want.path << "\"";
  }
  return ::testing::AssertionSuccess();
}

// The keys of `store` under `prefix`.
std::vector<std::string> Keys(StateStore* store, std::string_view prefix = "") {
  std::vector<std::string> out;
  EXPECT_TRUE(store
                  ->Scan(prefix,
                         [&](std::string_view key, std::string_view) {
                           out.emplace_back(key);
                           return true;
                         })
                  .ok());
  return out;
}

std::map<std::string, std::string> Contents(StateStore* store) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(store
                  ->Scan("",
                         [&](std::string_view key, std::string_view value) {
                           out.emplace(key, value);
                           return true;
                         })
                  .ok());
  return out;
}

// The complete lines of `text`, without their newlines.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(text.substr(start, nl - start));
  }
  return out;
}

void Append(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << bytes;
}

// ---------------------------------------------------------------------------
// The records of the log.

TEST(ClaimRecordTest, RoundTripsALogRecord) {
  ClaimRecord r;
  r.op = ClaimRecord::Op::kLog;
  r.log_id = "0123456789abcdef0123456789abcdef";
  const std::string text = EncodeClaimRecord(r);
  ASSERT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  ClaimRecord d;
  ASSERT_TRUE(DecodeClaimRecord(Line(r), &d));
  EXPECT_EQ(d.op, ClaimRecord::Op::kLog);
  EXPECT_EQ(d.log_id, r.log_id);
  EXPECT_FALSE(d.replaces);
}

// The path is in hex: spaces, a newline and bytes that are not UTF-8 come
// back as they were, and the record stays one line.
TEST(ClaimRecordTest, RoundTripsATakeWhosePathHasSpacesAndANewline) {
  Claim c = MakeClaim(kOwnerA, "000000000000002a-000001");
  c.path = "ingest_date=2026-12-02/two\nlines 5 x \xff.csv";
  c.size = 1234567890123ULL;
  const std::string text = EncodeClaimRecord(TakeRecord(c));
  EXPECT_EQ(text.find('\n'), text.size() - 1);
  EXPECT_EQ(text.find(" 5 x"), std::string::npos);
  ClaimRecord d;
  ASSERT_TRUE(DecodeClaimRecord(Line(TakeRecord(c)), &d));
  EXPECT_EQ(d.op, ClaimRecord::Op::kTake);
  EXPECT_TRUE(SameClaim(d.claim, c));
  EXPECT_FALSE(d.replaces);
}

TEST(ClaimRecordTest, RoundTripsATakeThatReplacesAnother) {
  const Claim c = MakeClaim(kOwnerB, "2");
  ClaimRecord d;
  ASSERT_TRUE(DecodeClaimRecord(Line(TakeRecord(c, MakeClaim(kOwnerA, "1"))), &d));
  EXPECT_EQ(d.op, ClaimRecord::Op::kTake);
  EXPECT_TRUE(SameClaim(d.claim, c));
  ASSERT_TRUE(d.replaces);
  EXPECT_EQ(d.replaces->sha256, kSha);
  EXPECT_EQ(d.replaces->owner, kOwnerA);
  EXPECT_EQ(d.replaces->intent, "1");
}

TEST(ClaimRecordTest, RoundTripsAReleaseOfOneCommitOrOfAnyIntent) {
  for (const std::string& intent : {std::string("7"), std::string(kAnyIntent)}) {
    ClaimRecord d;
    ASSERT_TRUE(DecodeClaimRecord(Line(ReleaseRecord(MakeClaim(kOwnerA, intent))), &d)) << intent;
    EXPECT_EQ(d.op, ClaimRecord::Op::kRelease);
    EXPECT_EQ(d.claim.sha256, kSha);
    EXPECT_EQ(d.claim.owner, kOwnerA);
    EXPECT_EQ(d.claim.intent, intent);
  }
}

// Its last field is the first 16 hex digits of the SHA-256 of what comes
// before it.
TEST(ClaimRecordTest, EndsWithTheCheckOfItsBody) {
  const std::string line = Line(TakeRecord(MakeClaim(kOwnerA, "1")));
  const size_t sp = line.rfind(' ');
  ASSERT_NE(sp, std::string::npos);
  EXPECT_EQ(line.substr(sp + 1), Sha256::HexOf(line.substr(0, sp)).substr(0, 16));
  EXPECT_EQ(line.rfind("atomic-ingest-claim/3 take " + kSha + " " + kOwnerA + " 1 5 ", 0), 0u);
}

TEST(ClaimRecordTest, AFlippedByteIsRejected) {
  ClaimRecord log;
  log.op = ClaimRecord::Op::kLog;
  log.log_id = "0123456789abcdef0123456789abcdef";
  for (const ClaimRecord& r : {log, TakeRecord(MakeClaim(kOwnerA, "1")),
                               TakeRecord(MakeClaim(kOwnerB, "2"), MakeClaim(kOwnerA, "1")),
                               ReleaseRecord(MakeClaim(kOwnerA, "1"))}) {
    const std::string line = Line(r);
    ClaimRecord d;
    ASSERT_TRUE(DecodeClaimRecord(line, &d));
    for (size_t i = 0; i < line.size(); ++i) {
      for (unsigned char mask : {0x01, 0x20, 0x80}) {
        std::string bad = line;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        EXPECT_FALSE(DecodeClaimRecord(bad, &d))
            << "byte " << i << " ^ " << int{mask} << ": " << bad;
      }
    }
  }
}

TEST(ClaimRecordTest, ATruncatedRecordIsRejected) {
  for (const ClaimRecord& r : {TakeRecord(MakeClaim(kOwnerA, "1")),
                               TakeRecord(MakeClaim(kOwnerB, "2"), MakeClaim(kOwnerA, "1")),
                               ReleaseRecord(MakeClaim(kOwnerA, "1"))}) {
    const std::string line = Line(r);
    ClaimRecord d;
    for (size_t n = 0; n < line.size(); ++n) {
      EXPECT_FALSE(DecodeClaimRecord(line.substr(0, n), &d)) << line.substr(0, n);
    }
    // A record with its newline is not a line of the log either.
    EXPECT_FALSE(DecodeClaimRecord(line + "\n", &d));
  }
}

TEST(ClaimRecordTest, ForeignLinesAreRejected) {
  const std::string take = Line(TakeRecord(MakeClaim(kOwnerA, "1")));
  ClaimRecord d;
  for (const std::string& bad :
       {std::string(""), std::string("garbage"), std::string("hello world 0123456789abcdef"),
        std::string("{\"path\":\"a.csv\",\"sha256\":\"") + kSha + "\"}",
        // The claims of earlier formats.
        "atomic-ingest-claim/1 " + kOwnerA + " 7 5 a b.csv",
        "atomic-ingest-claim/2 " + kSha + " " + kOwnerA + " id 5 5 a.csv",
        // Another version, well formed.
        Signed("atomic-ingest-claim/4 log 0123"),
        // A record with a space too many or too few.
        " " + take, take + " ", Signed("atomic-ingest-claim/3  log 0123"),
        Signed("atomic-ingest-claim/3 log"), Signed("atomic-ingest-claim/3 log a b"),
        Signed("atomic-ingest-claim/3 grab " + kSha + " " + kOwnerA + " 1")}) {
    EXPECT_FALSE(DecodeClaimRecord(bad, &d)) << bad;
  }
}

// What atomic-ingest never writes is no record, even with a good check.
TEST(ClaimRecordTest, RejectsMalformedFields) {
  const std::string m = "atomic-ingest-claim/3 ";
  const std::string hex_path = "612e637376";  // "a.csv"
  ClaimRecord d;
  // The forms themselves are records.
  ASSERT_TRUE(
      DecodeClaimRecord(Signed(m + "take " + kSha + " " + kOwnerA + " 1 5 " + hex_path), &d));
  ASSERT_TRUE(DecodeClaimRecord(
      Signed(m + "take " + kSha + " " + kOwnerA + " 1 5 " + hex_path + " " + kOwnerB + " 2"), &d));
  ASSERT_TRUE(DecodeClaimRecord(Signed(m + "release " + kSha + " " + kOwnerA + " 1"), &d));
  for (const std::string& bad : {
           m + "take " + kSha.substr(1) + " " + kOwnerA + " 1 5 " + hex_path,  // short sha
           m + "take " + kSha + " " + kOwnerA.substr(1) + " 1 5 " + hex_path,  // short owner
           m + "take " + kSha + " " + std::string(32, 'F') + " 1 5 " + hex_path,
           m + "take " + kSha + " " + kOwnerA + " 1 x5 " + hex_path,  // bad size
           m + "take " + kSha + " " + kOwnerA + " 1 -5 " + hex_path,
           m + "take " + kSha + " " + kOwnerA + " 1 5 612e63737",   // odd hex
           m + "take " + kSha + " " + kOwnerA + " 1 5 612E637376",  // upper hex
           m + "take " + kSha + " " + kOwnerA + " 1 5 zz2e637376",
           m + "take " + kSha + " " + kOwnerA + " 1 5",                              // no path
           m + "take " + kSha + " " + kOwnerA + " 1 5 " + hex_path + " " + kOwnerB,  // 7
           m + "take " + kSha + " " + kOwnerA + " 1 5 " + hex_path + " x 2",         // bad old
           m + "take " + kSha + " " + kOwnerA + " 1 5 " + hex_path + " " + kOwnerB + " 2 x",
           m + "release " + kSha + " " + kOwnerA,                   // no intent
           m + "release " + kSha + " " + kOwnerA + " 1 2",          // too many
           m + "release " + kSha.substr(2) + " " + kOwnerA + " 1",  // short sha
           m + "release " + kSha + " nobody 1",                     // bad owner
       }) {
    EXPECT_FALSE(DecodeClaimRecord(Signed(bad), &d)) << bad;
  }
}

// A claim's path is inside the warehouse: a record that says otherwise is
// rejected, whoever wrote it.
TEST(ClaimRecordTest, RejectsPathsOutsideTheWarehouse) {
  for (const std::string path : {"../x.csv", "a/../../x.csv", "a/..", "..", "/etc/passwd", "/x.csv",
                                 "", "./a.csv", "a/./b.csv", "a//b.csv"}) {
    Claim c = MakeClaim(kOwnerA, "1");
    c.path = path;
    ClaimRecord d;
    EXPECT_FALSE(DecodeClaimRecord(Line(TakeRecord(c)), &d)) << "\"" << path << "\"";
    EXPECT_FALSE(DecodeClaimRecord(Line(TakeRecord(c, MakeClaim(kOwnerB, "2"))), &d))
        << "\"" << path << "\"";
  }
  // Names that merely contain dots are inside.
  for (const std::string path : {"a..b/c.csv", "...", ".hidden/x", "x/..y"}) {
    Claim c = MakeClaim(kOwnerA, "1");
    c.path = path;
    ClaimRecord d;
    ASSERT_TRUE(DecodeClaimRecord(Line(TakeRecord(c)), &d)) << path;
    EXPECT_EQ(d.claim.path, path);
  }
}

TEST(ClaimRuleTest, TheFirstTakeWinsUnlessItsOwnerOrItsReplacementHolds) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_TRUE(TakeWins(TakeRecord(a1), std::nullopt));
  EXPECT_FALSE(TakeWins(TakeRecord(MakeClaim(kOwnerB, "2")), a1));
  // An instance never has two commits of one content under way.
  EXPECT_TRUE(TakeWins(TakeRecord(MakeClaim(kOwnerA, "2")), a1));
  // A takeover of the holder's commit wins; of another commit, it loses.
  EXPECT_TRUE(TakeWins(TakeRecord(MakeClaim(kOwnerB, "2"), a1), a1));
  EXPECT_FALSE(TakeWins(TakeRecord(MakeClaim(kOwnerB, "2"), MakeClaim(kOwnerA, "0")), a1));
  EXPECT_FALSE(TakeWins(TakeRecord(MakeClaim(kOwnerB, "2"), MakeClaim(kOwnerC, "1")), a1));
  EXPECT_TRUE(TakeWins(TakeRecord(MakeClaim(kOwnerB, "2"), MakeClaim(kOwnerC, "1")), std::nullopt));
}

TEST(ClaimRuleTest, AReleaseReleasesItsCommitsClaimOrAnyOfItsOwners) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(ReleaseMatches(a1, std::nullopt));
  EXPECT_TRUE(ReleaseMatches(a1, a1));
  EXPECT_FALSE(ReleaseMatches(MakeClaim(kOwnerA, "2"), a1));
  EXPECT_FALSE(ReleaseMatches(MakeClaim(kOwnerB, "1"), a1));
  EXPECT_TRUE(ReleaseMatches(MakeClaim(kOwnerA, std::string(kAnyIntent)), a1));
  EXPECT_FALSE(ReleaseMatches(MakeClaim(kOwnerB, std::string(kAnyIntent)), a1));
}

// ---------------------------------------------------------------------------
// The claims of a warehouse: instances A, B and C, each with its own index,
// share one warehouse.

class ClaimSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    ASSERT_TRUE(Env::Default()->OpenDir(root_.path().string(), &warehouse_).ok());
  }

  fs::path LogPath() const {
    return root_.path() / std::string(kClaimsDirName) / std::string(kClaimLogName);
  }

  // The single request's holder.
  static std::optional<Claim> TakeOne(ClaimSpace* space, const Claim& c,
                                      std::optional<Claim> replaces = std::nullopt) {
    std::vector<std::optional<Claim>> holders;
    const Status s = space->Take({{c, std::move(replaces)}}, &holders, /*sync=*/false);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(holders.size(), 1u);
    return holders.empty() ? std::nullopt : holders[0];
  }

  static std::optional<Claim> FindIn(ClaimSpace* space, const std::string& sha) {
    std::optional<Claim> found;
    const Status s = space->Find(sha, &found);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return found;
  }

  static void RefreshOk(ClaimSpace* space) {
    const Status s = space->Refresh();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  static void ReleaseOk(ClaimSpace* space, const Claim& c) {
    const Status s = space->Release({c}, /*sync=*/false);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  // Each complete line of the log decodes; returns them.
  std::vector<ClaimRecord> Records() const {
    std::vector<ClaimRecord> out;
    for (const std::string& line : Lines(ReadFile(LogPath()))) {
      ClaimRecord r;
      EXPECT_TRUE(DecodeClaimRecord(line, &r)) << line;
      out.push_back(r);
    }
    return out;
  }

  TempRoot root_{"claims_test"};
  File warehouse_;
  MemStateStore index_a_, index_b_, index_c_;
  ClaimSpace a_{Env::Default(), &warehouse_, &index_a_, kOwnerA};
  ClaimSpace b_{Env::Default(), &warehouse_, &index_b_, kOwnerB};
  ClaimSpace c_{Env::Default(), &warehouse_, &index_c_, kOwnerC};
};

TEST_F(ClaimSpaceTest, NothingIsMadeUntilAClaimIsTaken) {
  RefreshOk(&a_);
  EXPECT_FALSE(FindIn(&a_, kSha));
  ReleaseOk(&a_, MakeClaim(kOwnerA, "1"));
  ReleaseOk(&a_, MakeClaim(kOwnerA, std::string(kAnyIntent)));
  std::vector<std::optional<Claim>> holders{MakeClaim(kOwnerB, "9")};
  ASSERT_TRUE(a_.Take({}, &holders, /*sync=*/true).ok());
  EXPECT_TRUE(holders.empty());
  EXPECT_FALSE(fs::exists(root_.path() / std::string(kClaimsDirName)));
  EXPECT_TRUE(Keys(&index_a_).empty());
}

TEST_F(ClaimSpaceTest, TheFirstTakerWinsAndTheOtherIsToldWhoHolds) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  // The log: its name, then the take.
  std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].op, ClaimRecord::Op::kLog);
  EXPECT_EQ(records[0].log_id.size(), 32u);
  EXPECT_EQ(records[1].op, ClaimRecord::Op::kTake);
  EXPECT_TRUE(SameClaim(records[1].claim, a1));
  const std::string log = ReadFile(LogPath());

  // B loses, learns A's claim, and appends nothing.
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "7")), a1));
  EXPECT_EQ(ReadFile(LogPath()), log);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_EQ(Keys(&index_b_, keys::kClaim), std::vector<std::string>{keys::ClaimKey(kSha)});
  // Asked again, B loses again.
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "8")), a1));
  EXPECT_EQ(ReadFile(LogPath()), log);

  // A's own claim is not in its index.
  RefreshOk(&a_);
  EXPECT_FALSE(FindIn(&a_, kSha));
  EXPECT_TRUE(Keys(&index_a_, keys::kClaim).empty());
  EXPECT_FALSE(Keys(&index_a_, keys::kClaimLog).empty());
}

TEST_F(ClaimSpaceTest, AnotherInstanceSeesAClaimAfterRefresh) {
  Claim a1 = MakeClaim(kOwnerA, "1");
  a1.path = "ingest_date=2026-12-02/two\nlines and spaces.csv";
  EXPECT_FALSE(TakeOne(&a_, a1));
  EXPECT_FALSE(FindIn(&b_, kSha));  // B has not looked yet
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_FALSE(FindIn(&b_, kSha2));
  // From its index, in a space made anew (another pass).
  ClaimSpace b2(Env::Default(), &warehouse_, &index_b_, kOwnerB);
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha), a1));
  RefreshOk(&b2);
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha), a1));

  // Refreshing again reads only what was appended since.
  const Claim a2 = MakeClaim(kOwnerA, "2", kSha2);
  EXPECT_FALSE(TakeOne(&a_, a2));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha2), a2));
}

// A state store that counts the reads of claim keys.
class ClaimReadCountingStore final : public MemStateStore {
 public:
  Status Get(std::string_view key, std::string* value) override {
    if (key.starts_with(keys::kClaim)) ++claim_reads;
    return MemStateStore::Get(key, value);
  }
  int claim_reads = 0;
};

// A single instance's index holds no claim: its lookups and takes read
// none from it, and it reads the index once a fold has put another's
// claim there.
TEST_F(ClaimSpaceTest, LookupsReadTheIndexOnlyOnceItHoldsAClaim) {
  ClaimReadCountingStore index;
  ClaimSpace a(Env::Default(), &warehouse_, &index, kOwnerA);
  EXPECT_FALSE(FindIn(&a, kSha));
  EXPECT_FALSE(TakeOne(&a, MakeClaim(kOwnerA, "1")));
  EXPECT_FALSE(TakeOne(&a, MakeClaim(kOwnerA, "2", kSha2)));
  RefreshOk(&a);
  EXPECT_FALSE(FindIn(&a, kSha));
  EXPECT_EQ(index.claim_reads, 0);

  // B takes over A's second content (its file left the warehouse).
  const Claim b2 = MakeClaim(kOwnerB, "3", kSha2);
  EXPECT_FALSE(TakeOne(&b_, b2, MakeClaim(kOwnerA, "2", kSha2)));
  RefreshOk(&a);
  EXPECT_TRUE(SameClaim(FindIn(&a, kSha2), b2));
  EXPECT_FALSE(FindIn(&a, kSha));
  EXPECT_GT(index.claim_reads, 0);
  // A space made anew over that index (the next pass) reads it too.
  ClaimSpace a2(Env::Default(), &warehouse_, &index, kOwnerA);
  EXPECT_TRUE(SameClaim(FindIn(&a2, kSha2), b2));
}

// A space without an owner (a reader of the whole log) indexes every
// claim, and a commit that takes its claim again appends nothing.
TEST_F(ClaimSpaceTest, ASpaceWithoutAnOwnerIndexesEveryClaim) {
  MemStateStore all_index;
  ClaimSpace all(Env::Default(), &warehouse_, &all_index, "");
  const Claim a1 = MakeClaim(kOwnerA, "1");
  const Claim b2 = MakeClaim(kOwnerB, "2", kSha2);
  EXPECT_FALSE(TakeOne(&a_, a1));
  EXPECT_FALSE(TakeOne(&b_, b2));
  RefreshOk(&all);
  EXPECT_TRUE(SameClaim(FindIn(&all, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&all, kSha2), b2));
  const std::string log = ReadFile(LogPath());
  EXPECT_FALSE(TakeOne(&all, a1));  // held already
  EXPECT_EQ(ReadFile(LogPath()), log);
  EXPECT_TRUE(SameClaim(TakeOne(&all, MakeClaim(kOwnerC, "3")), a1));
  EXPECT_EQ(ReadFile(LogPath()), log);
}

// An instance never has two commits of one content under way: its take of
// a content it holds with another intent wins, and others see the new one.
TEST_F(ClaimSpaceTest, AnInstanceTakesAgainWhatItHoldsWithAnotherIntent) {
  EXPECT_FALSE(TakeOne(&a_, MakeClaim(kOwnerA, "1")));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), MakeClaim(kOwnerA, "1")));
  EXPECT_FALSE(TakeOne(&a_, MakeClaim(kOwnerA, "2")));
  EXPECT_FALSE(TakeOne(&a_, MakeClaim(kOwnerA, "2")));
  EXPECT_FALSE(FindIn(&a_, kSha));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), MakeClaim(kOwnerA, "2")));
  // B, which never held it, still loses.
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "3")), MakeClaim(kOwnerA, "2")));
}

// A batch costs one append: each request is decided in order, against the
// log and the requests before it.
TEST_F(ClaimSpaceTest, ABatchDecidesEachRequestInOrder) {
  const Claim b9 = MakeClaim(kOwnerB, "9", kSha2);
  EXPECT_FALSE(TakeOne(&b_, b9));
  std::vector<std::optional<Claim>> holders;
  ASSERT_TRUE(a_.Take({{MakeClaim(kOwnerA, "1", kSha), std::nullopt},
                       {MakeClaim(kOwnerA, "2", kSha2), std::nullopt},
                       {MakeClaim(kOwnerA, "3", kSha3), std::nullopt},
                       {MakeClaim(kOwnerA, "4", kSha), std::nullopt}},
                      &holders, /*sync=*/true)
                  .ok());
  ASSERT_EQ(holders.size(), 4u);
  EXPECT_FALSE(holders[0]);
  EXPECT_TRUE(SameClaim(holders[1], b9));
  EXPECT_FALSE(holders[2]);
  EXPECT_FALSE(holders[3]);
  const std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 5u);  // log, B's take, A's three winners
  EXPECT_EQ(records[2].claim.intent, "1");
  EXPECT_EQ(records[3].claim.intent, "3");
  EXPECT_EQ(records[4].claim.intent, "4");
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), MakeClaim(kOwnerA, "4", kSha)));
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha2), b9));
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha3), MakeClaim(kOwnerA, "3", kSha3)));
}

// A takeover names the claim it replaces: with the holder's, it wins (and
// every reader agrees); with another, it loses and learns the holder.
TEST_F(ClaimSpaceTest, ATakeoverWinsOnlyOverTheClaimItNames) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  const Claim b2 = MakeClaim(kOwnerB, "2");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::string log = ReadFile(LogPath());
  EXPECT_TRUE(SameClaim(TakeOne(&b_, b2, MakeClaim(kOwnerA, "0")), a1));  // wrong intent
  EXPECT_TRUE(SameClaim(TakeOne(&b_, b2, MakeClaim(kOwnerC, "1")), a1));  // wrong owner
  EXPECT_EQ(ReadFile(LogPath()), log);

  EXPECT_FALSE(TakeOne(&b_, b2, a1));
  EXPECT_FALSE(FindIn(&b_, kSha));  // its own now
  EXPECT_TRUE(Keys(&index_b_, keys::kClaim).empty());
  const std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 3u);
  ASSERT_TRUE(records[2].replaces);
  EXPECT_EQ(records[2].replaces->owner, kOwnerA);
  EXPECT_EQ(records[2].replaces->intent, "1");

  // A second takeover of the same old claim loses to the first.
  EXPECT_TRUE(SameClaim(TakeOne(&c_, MakeClaim(kOwnerC, "3"), a1), b2));
  EXPECT_EQ(Records().size(), 3u);
  RefreshOk(&a_);
  EXPECT_TRUE(SameClaim(FindIn(&a_, kSha), b2));
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), b2));
  // A lost its claim: its next take of the content loses too.
  EXPECT_TRUE(SameClaim(TakeOne(&a_, MakeClaim(kOwnerA, "4")), b2));
}

TEST_F(ClaimSpaceTest, AReleaseReleasesOnlyTheClaimOfItsCommit) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  ASSERT_TRUE(SameClaim(FindIn(&b_, kSha), a1));

  // Another commit of A, and a commit of B, release nothing of A's.
  ReleaseOk(&a_, MakeClaim(kOwnerA, "2"));
  ReleaseOk(&c_, MakeClaim(kOwnerC, "1"));
  ReleaseOk(&c_, MakeClaim(kOwnerC, std::string(kAnyIntent)));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), a1));
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "5")), a1));

  // A's commit releases it; B sees that on its next look, and takes it.
  ReleaseOk(&a_, a1);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  RefreshOk(&b_);
  EXPECT_FALSE(FindIn(&b_, kSha));
  EXPECT_TRUE(Keys(&index_b_, keys::kClaim).empty());
  // Releasing what is gone is no error.
  ReleaseOk(&a_, a1);
  EXPECT_FALSE(TakeOne(&b_, MakeClaim(kOwnerB, "9")));
  RefreshOk(&a_);
  EXPECT_TRUE(SameClaim(FindIn(&a_, kSha), MakeClaim(kOwnerB, "9")));
}

// forget knows a content, not the commit that took it: a release of any
// intent releases its owner's claim, whichever commit took it.
TEST_F(ClaimSpaceTest, AReleaseOfAnyIntentReleasesItsOwnersClaim) {
  EXPECT_FALSE(TakeOne(&a_, MakeClaim(kOwnerA, "7")));
  RefreshOk(&b_);
  ASSERT_TRUE(FindIn(&b_, kSha));
  ReleaseOk(&a_, MakeClaim(kOwnerA, std::string(kAnyIntent)));
  RefreshOk(&b_);
  EXPECT_FALSE(FindIn(&b_, kSha));
  RefreshOk(&c_);
  EXPECT_FALSE(FindIn(&c_, kSha));
}

// Another instance's claim may be released by whoever names its commit
// (forget of a content another instance ingested).
TEST_F(ClaimSpaceTest, AnotherInstancesClaimIsReleasedByItsCommit) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  ReleaseOk(&b_, MakeClaim(kOwnerA, "2"));  // not A's commit: nothing
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), a1));
  ReleaseOk(&b_, a1);
  EXPECT_FALSE(FindIn(&b_, kSha));
  RefreshOk(&c_);
  EXPECT_FALSE(FindIn(&c_, kSha));
}

// An instance's release of its own claim on a content another instance
// holds (the release of a commit whose take lost, or whose claim another
// instance took over) changes nothing: every reader of the log still sees
// the holder, and so must the instance itself.
TEST_F(ClaimSpaceTest, ReleasingItsOwnClaimKeepsAnothersClaimInItsIndex) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "2")), a1));
  ReleaseOk(&b_, MakeClaim(kOwnerB, "2"));
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  ReleaseOk(&b_, MakeClaim(kOwnerB, std::string(kAnyIntent)));
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  // Else B would take the content and ingest it again, while every other
  // reader of the log ignores that take.
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "3")), a1));
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), a1));
}

// A writer that died mid-append left a line without its newline: readers
// ignore it, and the next append cuts it off first.
TEST_F(ClaimSpaceTest, ATornTailIsIgnoredAndCutByTheNextAppend) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::string log = ReadFile(LogPath());
  // A whole record of C, but without its newline, then half a record.
  const Claim c2 = MakeClaim(kOwnerC, "2", kSha2);
  Append(LogPath(), Line(TakeRecord(c2)));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_FALSE(FindIn(&b_, kSha2));
  Append(LogPath(), std::string(3, '\0') + "atomic-ingest-claim/3 take " + kSha3.substr(0, 20));
  RefreshOk(&b_);
  EXPECT_FALSE(FindIn(&b_, kSha2));
  EXPECT_FALSE(FindIn(&b_, kSha3));

  const Claim a3 = MakeClaim(kOwnerA, "3", kSha3);
  EXPECT_FALSE(TakeOne(&a_, a3));
  EXPECT_EQ(ReadFile(LogPath()), log + EncodeClaimRecord(TakeRecord(a3)));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_FALSE(FindIn(&b_, kSha2));
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha3), a3));
  // C, which never looked, reads the log from its start.
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha3), a3));
  // B's loss appends nothing, so it cuts nothing either.
  Append(LogPath(), "torn");
  EXPECT_TRUE(SameClaim(TakeOne(&b_, MakeClaim(kOwnerB, "4", kSha3)), a3));
  EXPECT_EQ(ReadFile(LogPath()), log + EncodeClaimRecord(TakeRecord(a3)) + "torn");
}

// A line that is no record (torn by a crash and followed by later appends,
// or written by something else) is skipped, and the records after it read.
TEST_F(ClaimSpaceTest, AGarbageLineIsSkippedAndLaterRecordsRead) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  std::string flipped = Line(TakeRecord(MakeClaim(kOwnerC, "9", kSha3)));
  flipped[40] ^= 1;
  const Claim c2 = MakeClaim(kOwnerC, "2", kSha2);
  Append(LogPath(), "this line was not written by atomic-ingest\n" + flipped + "\n\n" +
                        EncodeClaimRecord(TakeRecord(c2)));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha2), c2));
  EXPECT_FALSE(FindIn(&b_, kSha3));
  // An append goes after the garbage, which stays.
  const std::string log = ReadFile(LogPath());
  const Claim a3 = MakeClaim(kOwnerA, "3", kSha3);
  EXPECT_FALSE(TakeOne(&a_, a3));
  EXPECT_EQ(ReadFile(LogPath()), log + EncodeClaimRecord(TakeRecord(a3)));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha3), a3));
  // From the start, too.
  MemStateStore fresh;
  ClaimSpace reader(Env::Default(), &warehouse_, &fresh, kOwnerB);
  RefreshOk(&reader);
  EXPECT_TRUE(SameClaim(FindIn(&reader, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&reader, kSha2), c2));
  EXPECT_TRUE(SameClaim(FindIn(&reader, kSha3), a3));
}

// A log whose first record a crash tore is started again by the next take.
TEST_F(ClaimSpaceTest, ALogWithATornFirstRecordStartsAgain) {
  fs::create_directories(LogPath().parent_path());
  WriteFile(LogPath(), "atomic-ingest-claim/3 log 01234");
  RefreshOk(&b_);
  EXPECT_FALSE(FindIn(&b_, kSha));
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].op, ClaimRecord::Op::kLog);
  EXPECT_TRUE(SameClaim(records[1].claim, a1));
  RefreshOk(&b_);
  EXPECT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
}

// The log removed and made again: an index of the old one starts over.
TEST_F(ClaimSpaceTest, AnIndexOfARemovedLogStartsOver) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  ASSERT_TRUE(SameClaim(FindIn(&b_, kSha), a1));
  const std::string old_id = Records()[0].log_id;
  ASSERT_TRUE(fs::remove(LogPath()));

  // Spaces of the next pass.
  const Claim c2 = MakeClaim(kOwnerC, "2", kSha2);
  MemStateStore index_c2;
  ClaimSpace c2_space(Env::Default(), &warehouse_, &index_c2, kOwnerC);
  EXPECT_FALSE(TakeOne(&c2_space, c2));
  const std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].log_id, old_id);

  ClaimSpace b2(Env::Default(), &warehouse_, &index_b_, kOwnerB);
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha), a1));  // not looked yet
  RefreshOk(&b2);
  EXPECT_FALSE(FindIn(&b2, kSha));
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha2), c2));
  EXPECT_EQ(Keys(&index_b_, keys::kClaim), std::vector<std::string>{keys::ClaimKey(kSha2)});
  // B takes what A held in the old log.
  EXPECT_FALSE(TakeOne(&b2, MakeClaim(kOwnerB, "3")));
}

// The space whose index is of the old log makes the new one itself.
TEST_F(ClaimSpaceTest, AnIndexOfARemovedLogStartsOverWhenItMakesTheNewOne) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  ASSERT_TRUE(fs::remove(LogPath()));
  ClaimSpace b2(Env::Default(), &warehouse_, &index_b_, kOwnerB);
  EXPECT_FALSE(TakeOne(&b2, MakeClaim(kOwnerB, "2")));
  EXPECT_FALSE(FindIn(&b2, kSha));
  EXPECT_TRUE(Keys(&index_b_, keys::kClaim).empty());
  ASSERT_EQ(Records().size(), 2u);
}

// A log shorter than what an index folded (a power loss took back records
// read before they were durable) is read again from its start.
TEST_F(ClaimSpaceTest, ALogShorterThanTheFoldIsReadAgain) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::string log = ReadFile(LogPath());
  EXPECT_FALSE(TakeOne(&a_, MakeClaim(kOwnerA, "2", kSha2)));
  RefreshOk(&b_);
  ASSERT_TRUE(FindIn(&b_, kSha2));
  WriteFile(LogPath(), log);

  ClaimSpace b2(Env::Default(), &warehouse_, &index_b_, kOwnerB);
  RefreshOk(&b2);
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha), a1));
  EXPECT_FALSE(FindIn(&b2, kSha2));
}

// The same, when others appended since, past where the index stopped.
TEST_F(ClaimSpaceTest, ALogRewrittenUnderTheFoldIsReadAgain) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::string head = EncodeClaimRecord([&] {
    ClaimRecord r;
    r.op = ClaimRecord::Op::kLog;
    r.log_id = Records()[0].log_id;
    return r;
  }());
  ASSERT_EQ(ReadFile(LogPath()).rfind(head, 0), 0u);
  RefreshOk(&b_);
  ASSERT_TRUE(SameClaim(FindIn(&b_, kSha), a1));

  // A's take is gone; C took two contents since.
  Claim c2 = MakeClaim(kOwnerC, "2", kSha2);
  c2.path = "ingest_date=2026-12-02/a much longer name than the one before.csv";
  const Claim c3 = MakeClaim(kOwnerC, "3", kSha3);
  WriteFile(LogPath(),
            head + EncodeClaimRecord(TakeRecord(c2)) + EncodeClaimRecord(TakeRecord(c3)));
  ClaimSpace b2(Env::Default(), &warehouse_, &index_b_, kOwnerB);
  RefreshOk(&b2);
  EXPECT_FALSE(FindIn(&b2, kSha));
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha2), c2));
  EXPECT_TRUE(SameClaim(FindIn(&b2, kSha3), c3));
}

// explain reads the claims without writing anything: not the log, not
// the index.
TEST_F(ClaimSpaceTest, AReadOnlySpaceWritesNothing) {
  MemStateStore ro_index;
  ClaimSpace ro(Env::Default(), &warehouse_, &ro_index, kOwnerB, /*writable=*/false);
  RefreshOk(&ro);
  EXPECT_FALSE(FindIn(&ro, kSha));
  std::vector<std::optional<Claim>> holders;
  (void)ro.Take({{MakeClaim(kOwnerB, "1"), std::nullopt}}, &holders, /*sync=*/true);
  (void)ro.Release({MakeClaim(kOwnerB, "1")}, /*sync=*/true);
  EXPECT_FALSE(fs::exists(root_.path() / std::string(kClaimsDirName)));
  EXPECT_TRUE(Keys(&ro_index).empty());

  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  const std::string log = ReadFile(LogPath());
  RefreshOk(&ro);
  EXPECT_TRUE(SameClaim(FindIn(&ro, kSha), a1));
  const Claim a2 = MakeClaim(kOwnerA, "2", kSha2);
  EXPECT_FALSE(TakeOne(&a_, a2));
  ReleaseOk(&a_, a1);
  RefreshOk(&ro);
  EXPECT_FALSE(FindIn(&ro, kSha));
  EXPECT_TRUE(SameClaim(FindIn(&ro, kSha2), a2));
  EXPECT_TRUE(Keys(&ro_index).empty());
  EXPECT_EQ(ReadFile(LogPath()).rfind(log, 0), 0u);
  EXPECT_EQ(Lines(ReadFile(LogPath())).size(), 4u);
}

// A read-only space over an index (explain over the state's snapshot)
// starts from it and folds the rest in memory; over an index of a removed
// log, it reads the new log only.
TEST_F(ClaimSpaceTest, AReadOnlySpaceFoldsPastItsIndexInMemory) {
  const Claim a1 = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(TakeOne(&a_, a1));
  RefreshOk(&b_);
  const auto before = Contents(&index_b_);
  const Claim a2 = MakeClaim(kOwnerA, "2", kSha2);
  EXPECT_FALSE(TakeOne(&a_, a2));

  ClaimSpace ro(Env::Default(), &warehouse_, &index_b_, kOwnerB, /*writable=*/false);
  EXPECT_TRUE(SameClaim(FindIn(&ro, kSha), a1));
  EXPECT_FALSE(FindIn(&ro, kSha2));
  RefreshOk(&ro);
  EXPECT_TRUE(SameClaim(FindIn(&ro, kSha), a1));
  EXPECT_TRUE(SameClaim(FindIn(&ro, kSha2), a2));
  EXPECT_EQ(Contents(&index_b_), before);

  ASSERT_TRUE(fs::remove(LogPath()));
  const Claim c3 = MakeClaim(kOwnerC, "3", kSha3);
  EXPECT_FALSE(TakeOne(&c_, c3));
  ClaimSpace ro2(Env::Default(), &warehouse_, &index_b_, kOwnerB, /*writable=*/false);
  RefreshOk(&ro2);
  EXPECT_FALSE(FindIn(&ro2, kSha));
  EXPECT_FALSE(FindIn(&ro2, kSha2));
  EXPECT_TRUE(SameClaim(FindIn(&ro2, kSha3), c3));
  EXPECT_EQ(Contents(&index_b_), before);
}

TEST_F(ClaimSpaceTest, ReadAllClaimsReadsTheWholeLog) {
  std::map<std::string, Claim> all;
  ASSERT_TRUE(ReadAllClaims(Env::Default(), warehouse_, &all).ok());
  EXPECT_TRUE(all.empty());
  const Claim a1 = MakeClaim(kOwnerA, "1");
  const Claim b2 = MakeClaim(kOwnerB, "2", kSha2);
  EXPECT_FALSE(TakeOne(&a_, a1));
  EXPECT_FALSE(TakeOne(&b_, b2));
  EXPECT_FALSE(TakeOne(&c_, MakeClaim(kOwnerC, "3", kSha3)));
  ReleaseOk(&c_, MakeClaim(kOwnerC, "3", kSha3));
  ASSERT_TRUE(ReadAllClaims(Env::Default(), warehouse_, &all).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(SameClaim(all[kSha], a1));
  EXPECT_TRUE(SameClaim(all[kSha2], b2));
}

// A joiner's first look at a long log writes its fold to the index as it
// reads (kFoldBatch claims at a time), and the index ends whole.
TEST_F(ClaimSpaceTest, ALongLogIsFoldedWhole) {
  constexpr size_t kClaims = 70000;
  std::vector<ClaimRequest> requests;
  requests.reserve(kClaims);
  for (size_t i = 0; i < kClaims; ++i) {
    requests.push_back(
        {MakeClaim(kOwnerB, std::to_string(i), Sha256::HexOf(std::to_string(i))), std::nullopt});
  }
  std::vector<std::optional<Claim>> holders;
  ASSERT_TRUE(b_.Take(requests, &holders, /*sync=*/false).ok());
  RefreshOk(&a_);
  size_t indexed = 0;
  ASSERT_TRUE(index_a_
                  .Scan(keys::kClaim,
                        [&](std::string_view, std::string_view) {
                          ++indexed;
                          return true;
                        })
                  .ok());
  EXPECT_EQ(indexed, kClaims);
  for (size_t i : {size_t{0}, kClaims / 2, kClaims - 1}) {
    const std::optional<Claim> found = FindIn(&a_, Sha256::HexOf(std::to_string(i)));
    ASSERT_TRUE(found) << i;
    EXPECT_EQ(found->intent, std::to_string(i));
  }
  // Nothing more to read: a second look changes nothing.
  RefreshOk(&a_);
  EXPECT_TRUE(FindIn(&a_, Sha256::HexOf(std::to_string(kClaims - 1))));
}

// Instances racing for one content, each with its own open log: exactly
// one wins, and every other is told it.
TEST_F(ClaimSpaceTest, OfConcurrentTakersExactlyOneWins) {
  constexpr char kOwnerDigits[] = "456789abcdef";
  constexpr size_t kTakers = sizeof kOwnerDigits - 1;
  std::vector<std::unique_ptr<MemStateStore>> indexes;
  std::vector<std::unique_ptr<ClaimSpace>> spaces;
  for (size_t i = 0; i < kTakers; ++i) {
    indexes.push_back(std::make_unique<MemStateStore>());
    spaces.push_back(std::make_unique<ClaimSpace>(Env::Default(), &warehouse_, indexes.back().get(),
                                                  std::string(32, kOwnerDigits[i])));
  }
  std::vector<std::vector<std::optional<Claim>>> holders(kTakers);
  std::vector<Status> results(kTakers);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < kTakers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = spaces[i]->Take(
          {{MakeClaim(std::string(32, kOwnerDigits[i]), "1"), std::nullopt},
           {MakeClaim(std::string(32, kOwnerDigits[i]), "1", Sha256::HexOf(std::to_string(i))),
            std::nullopt}},
          &holders[i], /*sync=*/false);
    });
  }
  for (std::thread& t : threads) t.join();
  size_t winners = 0;
  std::string winner;
  for (size_t i = 0; i < kTakers; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].ToString();
    ASSERT_EQ(holders[i].size(), 2u);
    EXPECT_FALSE(holders[i][1]);  // its own content
    if (!holders[i][0]) {
      ++winners;
      winner = std::string(32, kOwnerDigits[i]);
    }
  }
  ASSERT_EQ(winners, 1u);
  for (size_t i = 0; i < kTakers; ++i) {
    if (holders[i][0]) {
      EXPECT_TRUE(SameClaim(holders[i][0], MakeClaim(winner, "1")));
    }
  }
  const std::vector<ClaimRecord> records = Records();
  ASSERT_EQ(records.size(), 2 + kTakers);  // one log record, one winner, each own content
  EXPECT_EQ(records[0].op, ClaimRecord::Op::kLog);
  RefreshOk(&c_);
  EXPECT_TRUE(SameClaim(FindIn(&c_, kSha), MakeClaim(winner, "1")));
}

TEST_F(ClaimSpaceTest, TheOriginalIsPresentOnlyWithTheClaimedSize) {
  const Claim c = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(a_.OriginalPresent(c));
  fs::create_directories((root_.path() / c.path).parent_path());
  WriteFile(root_.path() / c.path, "12345");
  EXPECT_TRUE(a_.OriginalPresent(c));
  WriteFile(root_.path() / c.path, "1234");
  EXPECT_FALSE(a_.OriginalPresent(c));
  fs::remove(root_.path() / c.path);
  fs::create_directories(root_.path() / c.path);
  EXPECT_FALSE(a_.OriginalPresent(c));
}

// ---------------------------------------------------------------------------

TEST(ClaimOwnerTest, MadeOnceAndKept) {
  TempRoot root("claims_owner");
  File dir;
  ASSERT_TRUE(Env::Default()->OpenDir(root.path().string(), &dir).ok());
  std::string none, first, again;
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/false, &none).ok());
  EXPECT_EQ(none, "");
  EXPECT_FALSE(fs::exists(root.path() / "instance-id"));
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/true, &first).ok());
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ReadFile(root.path() / "instance-id"), first + "\n");
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/true, &again).ok());
  EXPECT_EQ(first, again);
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/false, &again).ok());
  EXPECT_EQ(first, again);
  WriteFile(root.path() / "instance-id", "not hex\n");
  Status s = LoadClaimOwner(Env::Default(), dir, /*create=*/true, &again);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("instance-id"), std::string::npos) << s.ToString();
}

class ClaimCommitRecordedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_.path() / "mf");
    ASSERT_TRUE(Env::Default()->OpenDir((root_.path() / "mf").string(), &manifests_).ok());
    // The record of the commit of intent_, in the hour file of its time.
    const fs::path hour = root_.path() / "mf" / UtcTime(kNs).HourPath();
    fs::create_directories(hour);
    ManifestRecord r;
    r.path = JoinPath(warehouse_path_, kPath);
    r.source = "/staging/my report.csv";
    r.sha256 = kSha;
    r.size = 5;
    r.ingested_at = UtcTime(kNs).Rfc3339();
    ManifestRecord other = r;
    other.path = JoinPath(warehouse_path_, "ingest_date=2026-12-02/other.csv");
    other.sha256 = kSha2;
    WriteFile(hour / std::string(kManifestFileName),
              FormatManifestLine(other) + FormatManifestLine(r));
    ManifestRecord parsed;
    ASSERT_TRUE(ParseManifestLine(FormatManifestLine(r), &parsed));
  }

  static std::string IntentAt(int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016llx-%06llx", static_cast<unsigned long long>(ns), 7ULL);
    return buf;
  }

  bool Recorded(const Claim& c) {
    bool recorded = true;
    const Status s = ClaimCommitRecorded(Env::Default(), manifests_, warehouse_path_, c, &recorded);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return recorded;
  }

  static constexpr int64_t kNs = 1795341600LL * kNanosPerSecond;
  TempRoot root_{"claim_recorded"};
  const std::string warehouse_path_ = "/data/wh";
  File manifests_;
};

TEST_F(ClaimCommitRecordedTest, FindsTheRecordOfTheCommitInItsHourFile) {
  EXPECT_TRUE(Recorded(MakeClaim(kOwnerA, IntentAt(kNs))));
  // The same hour, later.
  EXPECT_TRUE(Recorded(MakeClaim(kOwnerA, IntentAt(kNs + 1800LL * kNanosPerSecond))));
}

TEST_F(ClaimCommitRecordedTest, AnotherContentPathOrHourIsNotTheRecord) {
  EXPECT_FALSE(Recorded(MakeClaim(kOwnerA, IntentAt(kNs), kSha3)));
  Claim moved = MakeClaim(kOwnerA, IntentAt(kNs));
  moved.path = "ingest_date=2026-12-02/other.csv";
  EXPECT_FALSE(Recorded(moved));
  // The hour file of another hour does not exist.
  EXPECT_FALSE(Recorded(MakeClaim(kOwnerA, IntentAt(kNs + 3600LL * kNanosPerSecond))));
  EXPECT_FALSE(Recorded(MakeClaim(kOwnerA, IntentAt(kNs - 3600LL * kNanosPerSecond))));
}

TEST_F(ClaimCommitRecordedTest, AnIntentWithoutATimeOrNoManifestsIsNotRecorded) {
  EXPECT_FALSE(Recorded(MakeClaim(kOwnerA, "7")));
  EXPECT_FALSE(Recorded(MakeClaim(kOwnerA, "zzzzzzzzzzzzzzzz-000001")));
  bool recorded = true;
  ASSERT_TRUE(ClaimCommitRecorded(Env::Default(), File(), warehouse_path_,
                                  MakeClaim(kOwnerA, IntentAt(kNs)), &recorded)
                  .ok());
  EXPECT_FALSE(recorded);
}

// ---------------------------------------------------------------------------
// Instances sharing a warehouse, end to end.

// Two instances, each with its own staging directory and state, share one
// warehouse and one manifest root: a content dropped into both is
// ingested once, and the other copy is quarantined as its duplicate.
TEST(SharedWarehouseTest, TheSameContentFromTwoInstancesIsIngestedOnce) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("shared_wh");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  Options b = a;
  a.input = (base / "in-a").string();
  a.state_path = (base / "state-a").string();
  b.input = (base / "in-b").string();
  b.state_path = (base / "state-b").string();
  for (const Options* o : {&a, &b}) {
    fs::create_directories(o->input);
    fs::create_directories(o->state_path);
  }
  WriteFile(base / "in-a" / "x.csv", "shared\n");
  WriteFile(base / "in-a" / "only-a.csv", "a\n");
  WriteFile(base / "in-b" / "y.csv", "shared\n");
  WriteFile(base / "in-b" / "only-b.csv", "b\n");
  ManualClock clock(1795341600LL * kNanosPerSecond);
  MemStateStore state_a, state_b;
  PassStats sa, sb;
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state_a, &sa).ok());
  ASSERT_TRUE(RunIngestPass(b, Env::Default(), &clock, &state_b, &sb).ok());
  EXPECT_EQ(sa.files_ingested, 2u);
  EXPECT_EQ(sb.files_ingested, 1u);
  EXPECT_EQ(sb.duplicates, 1u);
  EXPECT_TRUE(fs::is_empty(base / "in-b"));
  EXPECT_EQ(ReadFile(base / "wh" / "_duplicates" / "ingest_date=2026-11-22" / "y.csv"), "shared\n");
  EXPECT_EQ(ReadFile(base / "wh" / "ingest_date=2026-11-22" / "x.csv"), "shared\n");
  EXPECT_FALSE(fs::exists(base / "wh" / "ingest_date=2026-11-22" / "y.csv"));
  // One log holds the claims; each instance's index holds the other's.
  EXPECT_TRUE(
      fs::is_regular_file(base / "wh" / std::string(kClaimsDirName) / std::string(kClaimLogName)));
  EXPECT_TRUE(Keys(&state_a, keys::kClaim).empty());
  EXPECT_EQ(Keys(&state_b, keys::kClaim).size(), 2u);  // A's x.csv and only-a.csv
}

// A retention job removed the file another instance ingested; the content
// arrives in this instance's staging: it is ingested again, taking over
// the claim, and the first instance's next copy is a duplicate of it.
TEST(SharedWarehouseTest, AContentWhoseFileAnotherInstanceLostIsIngestedAgain) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("shared_wh_lost");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  Options b = a;
  a.input = (base / "in-a").string();
  a.state_path = (base / "state-a").string();
  b.input = (base / "in-b").string();
  b.state_path = (base / "state-b").string();
  for (const Options* o : {&a, &b}) {
    fs::create_directories(o->input);
    fs::create_directories(o->state_path);
  }
  ManualClock clock(1795341600LL * kNanosPerSecond);
  MemStateStore state_a, state_b;
  PassStats stats;
  const fs::path part = base / "wh" / "ingest_date=2026-11-22";
  WriteFile(base / "in-a" / "x.csv", "kept once\n");
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state_a, &stats).ok());
  fs::remove(part / "x.csv");

  WriteFile(base / "in-b" / "y.csv", "kept once\n");
  stats = PassStats();
  ASSERT_TRUE(RunIngestPass(b, Env::Default(), &clock, &state_b, &stats).ok());
  EXPECT_EQ(stats.files_ingested, 1u);
  EXPECT_EQ(ReadFile(part / "y.csv"), "kept once\n");
  EXPECT_FALSE(fs::exists(base / "wh" / "_duplicates"));

  WriteFile(base / "in-a" / "x.csv", "kept once\n");
  stats = PassStats();
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state_a, &stats).ok());
  EXPECT_EQ(stats.files_ingested, 0u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_FALSE(fs::exists(part / "x.csv"));
}

// Lines of the log atomic-ingest cannot read fail nothing: both files are
// ingested.
TEST(SharedWarehouseTest, GarbageInTheClaimLogFailsNothing) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("bad_claim");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  fs::create_directories(a.input);
  fs::create_directories(a.state_path);
  WriteFile(base / "in" / "x.csv", "x\n");
  WriteFile(base / "in" / "y.csv", "y\n");
  const fs::path log = base / "wh" / std::string(kClaimsDirName) / std::string(kClaimLogName);
  fs::create_directories(log.parent_path());
  WriteFile(log, "garbage\natomic-ingest-claim/3 take " + Sha256::HexOf("x\n") + " torn");
  ManualClock clock(1795341600LL * kNanosPerSecond);
  MemStateStore state;
  PassStats stats;
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state, &stats).ok());
  EXPECT_EQ(stats.files_ingested, 2u);
  EXPECT_EQ(stats.failed, 0u);
  std::map<std::string, Claim> all;
  File wh;
  ASSERT_TRUE(Env::Default()->OpenDir((base / "wh").string(), &wh).ok());
  ASSERT_TRUE(ReadAllClaims(Env::Default(), wh, &all).ok());
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(all.count(Sha256::HexOf("x\n")), 1u);
}

// Runs a pass of `o` on a state whose content index already holds `sha`,
// ingested as `path` (an earlier version's ingest).
void PassKnowing(const Options& o, MemStateStore* state, const std::string& sha,
                 const fs::path& path, uint64_t size, ManualClock* clock, PassStats* stats) {
  ASSERT_TRUE(state
                  ->Apply({{keys::Content(sha),
                            EncodeContentRecord({path.string(), "/elsewhere", "m", size, 1})}},
                          true)
                  .ok());
  ASSERT_TRUE(RunIngestPass(o, Env::Default(), clock, state, stats).ok());
}

// A warehouse filled before claims existed: the instance that ingested a
// content claims it on its first run, so that another instance never
// ingests it again.
TEST(SharedWarehouseTest, ContentsIngestedBeforeClaimsAreClaimedOnce) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("backfill");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  fs::create_directories(a.input);
  fs::create_directories(a.state_path);
  const fs::path old = base / "wh" / "ingest_date=2026-01-01" / "old.csv";
  fs::create_directories(old.parent_path());
  WriteFile(old, "old content\n");
  const std::string sha = Sha256::HexOf("old content\n");
  MemStateStore state_a;
  ManualClock clock(1795341600LL * kNanosPerSecond);
  PassStats stats;
  PassKnowing(a, &state_a, sha, old, 12, &clock, &stats);
  File wh;
  ASSERT_TRUE(Env::Default()->OpenDir((base / "wh").string(), &wh).ok());
  MemStateStore all_index;
  ClaimSpace claims(Env::Default(), &wh, &all_index, /*owner=*/"");
  ASSERT_TRUE(claims.Refresh().ok());
  std::optional<Claim> claim;
  ASSERT_TRUE(claims.Find(sha, &claim).ok());
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->path, "ingest_date=2026-01-01/old.csv");
  EXPECT_EQ(claim->owner, ReadFile(base / "state" / "instance-id").substr(0, 32));
  std::string done;
  EXPECT_TRUE(state_a.Get(keys::kClaimsDone, &done).ok());

  // Another instance with the same content staged: a duplicate.
  Options b = a;
  b.input = (base / "in-b").string();
  b.state_path = (base / "state-b").string();
  fs::create_directories(b.input);
  fs::create_directories(b.state_path);
  WriteFile(base / "in-b" / "again.csv", "old content\n");
  MemStateStore state_b;
  ASSERT_TRUE(RunIngestPass(b, Env::Default(), &clock, &state_b, &stats).ok());
  EXPECT_EQ(stats.files_ingested, 0u);
  EXPECT_EQ(stats.duplicates, 1u);
}

// Claims of the earlier format, one name per content (a hard link to a
// record file, or a symlink), of another instance that no longer runs:
// imported into the log by the first pass, so that their contents stay
// claimed; a takeover marker beside them is not a claim. A backfill take of
// a content this instance claimed the old way keeps the old claim.
TEST(SharedWarehouseTest, ClaimsOfTheEarlierFormatAreImported) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("import");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  fs::create_directories(a.input);
  fs::create_directories(a.state_path);
  const fs::path claims = base / "wh" / std::string(kClaimsDirName);
  const std::string gone(32, 'e');
  const std::string linked = Sha256::HexOf("linked\n");
  const std::string symlinked = Sha256::HexOf("symlinked\n");
  fs::create_directories(claims / "records" / gone);
  const fs::path record = claims / "records" / gone / "batch";
  WriteFile(record, "atomic-ingest-claim/2 " + std::string(64, '0') + " " + gone +
                        " 1 3 5 x.csv\natomic-ingest-claim/2 " + linked + " " + gone +
                        " 0000000000000001-000001 7 19 ingest_date=x/l.csv\n");
  fs::create_directories(claims / linked.substr(0, 2));
  fs::create_hard_link(record, claims / linked.substr(0, 2) / linked);
  fs::create_hard_link(record, claims / linked.substr(0, 2) / (linked + ".takeover-x-y"));
  fs::create_directories(claims / symlinked.substr(0, 2));
  fs::create_symlink("atomic-ingest-claim/1 " + gone + " 9 10 ingest_date=x/s.csv",
                     claims / symlinked.substr(0, 2) / symlinked);
  // This instance's own content, claimed the old way with its real intent.
  const fs::path mine = base / "wh" / "ingest_date=x" / "m.csv";
  fs::create_directories(mine.parent_path());
  WriteFile(mine, "mine\n");
  const std::string mine_sha = Sha256::HexOf("mine\n");
  std::string owner;
  File state_dir;
  ASSERT_TRUE(Env::Default()->OpenDir(a.state_path, &state_dir).ok());
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), state_dir, /*create=*/true, &owner).ok());
  fs::create_directories(claims / mine_sha.substr(0, 2));
  fs::create_symlink(
      "atomic-ingest-claim/1 " + owner + " 0000000000000002-000001 5 ingest_date=x/m.csv",
      claims / mine_sha.substr(0, 2) / mine_sha);
  MemStateStore state_a;
  ManualClock clock(1795341600LL * kNanosPerSecond);
  PassStats stats;
  PassKnowing(a, &state_a, mine_sha, mine, 5, &clock, &stats);

  File wh;
  ASSERT_TRUE(Env::Default()->OpenDir((base / "wh").string(), &wh).ok());
  std::map<std::string, Claim> all;
  ASSERT_TRUE(ReadAllClaims(Env::Default(), wh, &all).ok());
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[linked].owner, gone);
  EXPECT_EQ(all[linked].intent, "0000000000000001-000001");
  EXPECT_EQ(all[linked].path, "ingest_date=x/l.csv");
  EXPECT_EQ(all[symlinked].owner, gone);
  EXPECT_EQ(all[symlinked].size, 10u);
  EXPECT_EQ(all[mine_sha].owner, owner);
  EXPECT_EQ(all[mine_sha].intent, "0000000000000002-000001");
}

}  // namespace
}  // namespace ingest
