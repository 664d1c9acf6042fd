#include "claims.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

#include "clock.h"
#include "env.h"
#include "ingest_pass.h"
#include "mem_state_store.h"
#include "records.h"
#include "sha256.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

const std::string kSha = std::string(64, 'a');
const std::string kOwnerA = std::string(32, '1');
const std::string kOwnerB = std::string(32, '2');

Claim MakeClaim(const std::string& owner, const std::string& intent) {
  return Claim{kSha, owner, intent, 5, "ingest_date=2026-12-02/my report.csv"};
}

TEST(ClaimCodecTest, RoundTripsWithSpacesInThePath) {
  const Claim c = MakeClaim(kOwnerA, "000000000000002a-000001");
  Claim d;
  ASSERT_TRUE(DecodeClaim(kSha, EncodeClaim(c), &d));
  EXPECT_EQ(d.sha256, kSha);
  EXPECT_EQ(d.owner, c.owner);
  EXPECT_EQ(d.intent, c.intent);
  EXPECT_EQ(d.size, 5u);
  EXPECT_EQ(d.path, c.path);
}

// A record file holds the claims of one batch; each is found by its
// content, whatever its path holds.
TEST(ClaimCodecTest, FindsEachClaimOfARecordFile) {
  Claim a = MakeClaim(kOwnerA, "1");
  Claim b = MakeClaim(kOwnerA, "2");
  b.sha256 = std::string(64, 'b');
  b.path = "ingest_date=2026-12-02/two\nlines 5 x.csv";
  const std::string text = EncodeClaim(a) + EncodeClaim(b);
  Claim d;
  ASSERT_TRUE(DecodeClaim(b.sha256, text, &d));
  EXPECT_EQ(d.intent, "2");
  EXPECT_EQ(d.path, b.path);
  ASSERT_TRUE(DecodeClaim(kSha, text, &d));
  EXPECT_EQ(d.intent, "1");
  EXPECT_FALSE(DecodeClaim(std::string(64, 'c'), text, &d));
}

// Claims of the first format are symlinks whose target is the record.
TEST(ClaimCodecTest, ReadsTheFirstFormat) {
  Claim d;
  ASSERT_TRUE(DecodeClaim(kSha, "atomic-ingest-claim/1 " + kOwnerA + " 7 5 a b.csv", &d));
  EXPECT_EQ(d.owner, kOwnerA);
  EXPECT_EQ(d.intent, "7");
  EXPECT_EQ(d.size, 5u);
  EXPECT_EQ(d.path, "a b.csv");
}

TEST(ClaimCodecTest, RejectsWhatAtomicIngestNeverWrites) {
  Claim d;
  const std::string v2 = "atomic-ingest-claim/2 " + kSha + " ";
  for (const std::string& bad :
       {std::string(""), std::string("../../etc/passwd"),
        "atomic-ingest-claim/1 " + kOwnerA + " id 5",                // no path
        "atomic-ingest-claim/1 " + kOwnerA + " id x5 a.csv",         // bad size
        std::string("atomic-ingest-claim/1 shortowner id 5 a.csv"),  // bad owner
        "atomic-ingest-claim/1 " + kOwnerA + " id 5 /etc/x",         // absolute
        "atomic-ingest-claim/1 " + kOwnerA + " id 5 a/../../x",      // escapes
        v2 + kOwnerA + " id 5 5 a.csv",                              // no newline
        v2 + kOwnerA + " id 5 9 a.csv\n",                            // short path
        v2 + kOwnerA + " id 5 4 a.csv\n",                            // long path
        v2 + kOwnerA + " id 5 6 /a.csv\n",                           // absolute
        v2 + "shortowner id 5 5 a.csv\n",                            // bad owner
        "atomic-ingest-claim/3 " + kSha + " " + kOwnerA + " id 5 5 a.csv\n"}) {
    EXPECT_FALSE(DecodeClaim(kSha, bad, &d)) << bad;
  }
}

class ClaimSpaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Env::Default()->OpenDir(root_.path().string(), &warehouse_).ok());
  }

  TempRoot root_{"claims_test"};
  File warehouse_;
  ClaimSpace claims_{Env::Default(), &warehouse_};
};

TEST_F(ClaimSpaceTest, FirstTakerWinsAndOthersSeeIt) {
  std::optional<Claim> found;
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  EXPECT_FALSE(found);

  std::optional<Claim> holder;
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerA, "1"), &holder).ok());
  EXPECT_FALSE(holder);
  EXPECT_TRUE(fs::is_regular_file(root_.path() / ".atomic-ingest-claims" / "aa" / kSha));

  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerB, "7"), &holder).ok());
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->owner, kOwnerA);
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->intent, "1");
}

// A create whose reply was lost (an NFS retransmission) is retried: the
// claim is already this commit's.
TEST_F(ClaimSpaceTest, TakingTwiceForOneCommitHoldsIt) {
  std::optional<Claim> holder;
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerA, "1"), &holder).ok());
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerA, "1"), &holder).ok());
  EXPECT_FALSE(holder);
  // Another commit of the same instance is another commit.
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerA, "2"), &holder).ok());
  EXPECT_TRUE(holder);
}

// Two instances take over one finished claim whose file is gone: exactly
// one replaces it, and the other waits for that claim; a try of the
// winner's own instance cut short by a crash goes on.
TEST_F(ClaimSpaceTest, OneTakerOfAFinishedClaimWins) {
  const Claim old = MakeClaim(kOwnerA, "1");
  std::optional<Claim> holder;
  ASSERT_TRUE(claims_.Take(old, &holder).ok());
  ClaimSpace other(Env::Default(), &warehouse_);
  ASSERT_TRUE(claims_.TakeOver(old, MakeClaim(kOwnerB, "2"), &holder).ok());
  EXPECT_FALSE(holder);
  const std::string third(32, 'c');
  ASSERT_TRUE(other.TakeOver(old, MakeClaim(third, "3"), &holder).ok());
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->owner, kOwnerB);
  std::optional<Claim> found;
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->intent, "2");
  EXPECT_TRUE(fs::is_regular_file(root_.path() / ".atomic-ingest-claims" / "aa" /
                                  (kSha + ".takeover-" + kOwnerA + "-1")));

  // B's commit rolled back (its claim released) before a crash; its next
  // try, with another intent, finds its own marker and goes on.
  ASSERT_TRUE(claims_.Release(MakeClaim(kOwnerB, "2")).ok());
  ASSERT_TRUE(claims_.Take(old, &holder).ok());  // as it was
  ASSERT_TRUE(claims_.TakeOver(old, MakeClaim(kOwnerB, "4"), &holder).ok());
  EXPECT_FALSE(holder);
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  EXPECT_EQ(found->intent, "4");
}

TEST_F(ClaimSpaceTest, ReleaseRemovesOnlyItsOwnCommitsClaim) {
  std::optional<Claim> holder;
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerA, "1"), &holder).ok());
  ASSERT_TRUE(claims_.Release(MakeClaim(kOwnerB, "1")).ok());
  ASSERT_TRUE(claims_.Release(MakeClaim(kOwnerA, "2")).ok());
  std::optional<Claim> found;
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  EXPECT_TRUE(found);
  ASSERT_TRUE(claims_.Release(MakeClaim(kOwnerA, "1")).ok());
  ASSERT_TRUE(claims_.Find(kSha, &found).ok());
  EXPECT_FALSE(found);
  // Releasing what is gone is no error.
  EXPECT_TRUE(claims_.Release(MakeClaim(kOwnerA, "1")).ok());
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerB, "9"), &holder).ok());
  EXPECT_FALSE(holder);
}

TEST_F(ClaimSpaceTest, AnUnreadableClaimIsReportedByPath) {
  const fs::path dir = root_.path() / ".atomic-ingest-claims" / "aa";
  fs::create_directories(dir);
  for (bool symlink : {true, false}) {
    fs::remove(dir / kSha);
    if (symlink) {
      fs::create_symlink("somewhere", dir / kSha);
    } else {
      WriteFile(dir / kSha, "garbage\n");
    }
    std::optional<Claim> found;
    Status s = claims_.Find(kSha, &found);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    EXPECT_NE(s.ToString().find(".atomic-ingest-claims/aa/" + kSha), std::string::npos);
  }
}

// A claim of the first format is found and released like one of today's.
TEST_F(ClaimSpaceTest, AFirstFormatClaimIsFoundAndReleased) {
  const fs::path dir = root_.path() / ".atomic-ingest-claims" / "aa";
  fs::create_directories(dir);
  fs::create_symlink("atomic-ingest-claim/1 " + kOwnerA + " 1 5 a.csv", dir / kSha);
  std::optional<Claim> holder;
  ASSERT_TRUE(claims_.Take(MakeClaim(kOwnerB, "2"), &holder).ok());
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->owner, kOwnerA);
  ASSERT_TRUE(claims_.Release(*holder).ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir / kSha)));
}

// The claims of a batch share record files of kClaimsPerRecordFile, each
// claim a hard link to its own; taking them creates no other file.
TEST_F(ClaimSpaceTest, ABatchSharesItsRecordFiles) {
  std::vector<Claim> batch;
  for (size_t i = 0; i < kClaimsPerRecordFile + 1; ++i) {
    Claim c = MakeClaim(kOwnerA, "i" + std::to_string(i));
    c.sha256 = Sha256::HexOf(std::to_string(i));
    batch.push_back(c);
  }
  std::vector<std::string> files;
  ASSERT_TRUE(claims_.WriteRecords(batch, &files).ok());
  ASSERT_EQ(files.size(), batch.size());
  EXPECT_EQ(files.front(), files[kClaimsPerRecordFile - 1]);
  EXPECT_NE(files.front(), files.back());
  for (size_t i = 0; i < batch.size(); ++i) {
    std::optional<Claim> holder;
    ASSERT_TRUE(claims_.Take(batch[i], files[i], &holder).ok());
    EXPECT_FALSE(holder);
  }
  const fs::path claims = root_.path() / ".atomic-ingest-claims";
  EXPECT_EQ(fs::hard_link_count(claims / files.front()), kClaimsPerRecordFile + 1);
  EXPECT_EQ(fs::hard_link_count(claims / files.back()), 2u);
  for (const Claim& c : batch) {
    std::optional<Claim> found;
    ASSERT_TRUE(claims_.Find(c.sha256, &found).ok());
    ASSERT_TRUE(found);
    EXPECT_EQ(found->intent, c.intent);
  }
  // Another commit of the same content loses, and is told who holds it.
  std::optional<Claim> holder;
  Claim late = batch[3];
  late.owner = kOwnerB;
  ASSERT_TRUE(claims_.Take(late, &holder).ok());
  ASSERT_TRUE(holder);
  EXPECT_EQ(holder->intent, "i3");
}

TEST_F(ClaimSpaceTest, TheOriginalIsPresentOnlyWithTheClaimedSize) {
  const Claim c = MakeClaim(kOwnerA, "1");
  EXPECT_FALSE(claims_.OriginalPresent(c));
  fs::create_directories((root_.path() / c.path).parent_path());
  WriteFile(root_.path() / c.path, "12345");
  EXPECT_TRUE(claims_.OriginalPresent(c));
  WriteFile(root_.path() / c.path, "1234");
  EXPECT_FALSE(claims_.OriginalPresent(c));
}

TEST(ClaimOwnerTest, MadeOnceAndKept) {
  TempRoot root("claims_owner");
  File dir;
  ASSERT_TRUE(Env::Default()->OpenDir(root.path().string(), &dir).ok());
  std::string none, first, again;
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/false, &none).ok());
  EXPECT_EQ(none, "");
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/true, &first).ok());
  EXPECT_EQ(first.size(), 32u);
  ASSERT_TRUE(LoadClaimOwner(Env::Default(), dir, /*create=*/true, &again).ok());
  EXPECT_EQ(first, again);
  WriteFile(root.path() / "instance-id", "not hex\n");
  Status s = LoadClaimOwner(Env::Default(), dir, /*create=*/true, &again);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.ToString().find("instance-id"), std::string::npos) << s.ToString();
}

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

// A claim atomic-ingest cannot read fails its content's file, by name, and
// nothing else.
TEST(SharedWarehouseTest, AnUnreadableClaimFailsOnlyItsFile) {
  spdlog::set_level(spdlog::level::off);
  TempRoot root("bad_claim");
  const fs::path base = root.path();
  Options a = OptionsUnder(base);
  fs::create_directories(a.input);
  fs::create_directories(a.state_path);
  WriteFile(base / "in" / "x.csv", "x\n");
  WriteFile(base / "in" / "y.csv", "y\n");
  const std::string sha = Sha256::HexOf("x\n");
  const fs::path claim = base / "wh" / ".atomic-ingest-claims" / sha.substr(0, 2) / sha;
  fs::create_directories(claim.parent_path());
  WriteFile(claim, "garbage\n");
  ManualClock clock(1795341600LL * kNanosPerSecond);
  MemStateStore state;
  PassStats stats;
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state, &stats).ok());
  EXPECT_EQ(stats.files_ingested, 1u);
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_TRUE(fs::exists(base / "in" / "x.csv"));
  EXPECT_FALSE(fs::exists(base / "in" / "y.csv"));
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
  ASSERT_TRUE(state_a
                  .Apply({{keys::Content(sha),
                           EncodeContentRecord({old.string(), "/elsewhere/old.csv", "m", 12, 1})}},
                         true)
                  .ok());
  ManualClock clock(1795341600LL * kNanosPerSecond);
  PassStats stats;
  ASSERT_TRUE(RunIngestPass(a, Env::Default(), &clock, &state_a, &stats).ok());
  File wh;
  ASSERT_TRUE(Env::Default()->OpenDir((base / "wh").string(), &wh).ok());
  ClaimSpace claims(Env::Default(), &wh);
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

}  // namespace
}  // namespace ingest
