// The same content delivered again: a copy is set aside or deleted only
// while its original is in the warehouse, and quarantine names never run
// out.

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "clock.h"
#include "env.h"
#include "ingest_pass.h"
#include "manifest.h"
#include "mem_state_store.h"
#include "options.h"
#include "pass_fixture.h"
#include "sha256.h"
#include "test_support.h"
#include "warehouse.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class RedeliveryTest : public PassFixture {
 protected:
  RedeliveryTest() : PassFixture("redelivery_test") {}

  // Delivers as PassFixture does, and the pass leaves staging empty.
  PassStats Deliver(const std::string& name, const std::string& content) {
    PassStats stats = PassFixture::Deliver(name, content);
    EXPECT_TRUE(fs::is_empty(base_ / "in")) << "delivery of " << name << " left in staging";
    return stats;
  }

  fs::path Quarantine() { return base_ / "wh" / DuplicatesDir(UtcTime(clock_.NowNs())); }

  std::vector<ManifestRecord> Records() {
    std::vector<ManifestRecord> out;
    for (const auto& f : fs::recursive_directory_iterator(base_ / "mf")) {
      if (!f.is_regular_file()) continue;
      std::string text = ReadFile(f.path());
      for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
        ManifestRecord r;
        EXPECT_TRUE(ParseManifestLine(text.substr(at, end - at), &r));
        out.push_back(r);
      }
    }
    return out;
  }
};

class MissingOriginalTest : public RedeliveryTest,
                            public ::testing::WithParamInterface<OnDuplicate> {};

TEST_P(MissingOriginalTest, ACopyOfAMissingOriginalIsIngestedAgainNeverSetAside) {
  options_.on_duplicate = GetParam();
  EXPECT_EQ(Deliver("a.csv", "the only content\n").files_ingested, 1u);
  const fs::path first = Partition() / "a.csv";
  fs::remove(first);  // a retention job

  PassStats again = Deliver("b.csv", "the only content\n");
  EXPECT_EQ(again.files_ingested, 1u);
  EXPECT_EQ(again.duplicates, 0u);
  EXPECT_EQ(ReadFile(Partition() / "b.csv"), "the only content\n");
  EXPECT_FALSE(fs::exists(Quarantine()));
  std::vector<ManifestRecord> records = Records();
  ASSERT_EQ(records.size(), 2u);
  const ManifestRecord& second = records[0].reingest_of.empty() ? records[1] : records[0];
  EXPECT_EQ(second.path, (Partition() / "b.csv").string());
  EXPECT_EQ(second.reingest_of, first.string());

  // The new original is there: the next copy is a duplicate again.
  PassStats third = Deliver("c.csv", "the only content\n");
  EXPECT_EQ(third.files_ingested, 0u);
  EXPECT_EQ(third.duplicates, 1u);
  EXPECT_EQ(Records().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(OnDuplicate, MissingOriginalTest,
                         ::testing::Values(OnDuplicate::kQuarantine, OnDuplicate::kDelete));

TEST_F(RedeliveryTest, AnOriginalReplacedByAnotherFileCountsAsMissing) {
  options_.on_duplicate = OnDuplicate::kDelete;
  Deliver("a.csv", "first content\n");
  fs::remove(Partition() / "a.csv");
  WriteFile(Partition() / "a.csv", "not the same\n");  // another size
  PassStats again = Deliver("a.csv", "first content\n");
  EXPECT_EQ(again.files_ingested, 1u);
  EXPECT_EQ(ReadFile(Partition() / CollisionName("a.csv", Sha256::HexOf("first content\n"), 12)),
            "first content\n");
}

TEST_F(RedeliveryTest, QuarantineNamesNeverRunOutAndKeepOneCopyOfAContent) {
  options_.on_duplicate = OnDuplicate::kQuarantine;
  // cron's `rsync -a src/ staging/` sends the day's file on every run.
  Deliver("day.csv", "the day\n");
  for (int i = 0; i < 6; ++i) {
    PassStats again = Deliver("day.csv", "the day\n");
    EXPECT_EQ(again.duplicates, 1u) << "delivery " << i + 2;
    EXPECT_EQ(again.failed, 0u) << "delivery " << i + 2;
  }
  // The first quarantined copy keeps its name; the next takes the
  // full-sha256 name, and later ones find the content there.
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(Quarantine())) names.push_back(f.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{
                       CollisionName("day.csv", Sha256::HexOf("the day\n"), 64), "day.csv"}));
  EXPECT_EQ(Records().size(), 1u);
}

TEST_F(RedeliveryTest, NumberedNamesFollowWhenEveryCollisionNameIsTaken) {
  const std::string sha = Sha256::HexOf("new content\n");
  // Files an operator put there, under every name the content could take.
  fs::create_directories(Partition());
  for (const std::string& name :
       {std::string("a.csv"), CollisionName("a.csv", sha, 12), CollisionName("a.csv", sha, 64)}) {
    WriteFile(Partition() / name, "someone else's\n");
  }
  EXPECT_EQ(Deliver("a.csv", "new content\n").files_ingested, 1u);
  EXPECT_EQ(ReadFile(Partition() / NumberedCollisionName("a.csv", sha, 2)), "new content\n");
}

}  // namespace
}  // namespace ingest
