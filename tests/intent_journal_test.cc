#include "intent_journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "mem_state_store.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kNeverReset = UINT64_MAX;

Intent SampleIntent(const std::string& name) {
  Intent in;
  in.sha256 = std::string(64, 'a');
  in.src_name = name;
  in.src_dev = 7;
  in.src_ino = 42;
  in.size = 5;
  in.moved_dev = 7;
  in.moved_ino = 42;
  in.dest_dir = "ingest_date=2026-11-22";
  in.dest_name = name;
  in.manifest_path = "2026/11/22/12";
  in.manifest_line = "{\"path\":\"" + name + "\"}\n";
  return in;
}

class IntentJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    base_ = tmp_.path();
    ASSERT_TRUE(Env::Default()->OpenDir(base_.string(), &dir_).ok());
  }

  // A journal as a pass opens it: opened, then recovered.
  std::unique_ptr<IntentJournal> Recovered(uint64_t reset_bytes = kNeverReset) {
    auto j = std::make_unique<IntentJournal>(Env::Default(), &state_, reset_bytes);
    Status s = j->Open(dir_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    size_t moved = 0;
    s = j->MoveOpenToState(&moved);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return j;
  }

  // Appends a batch of intents named after `names`; returns its number.
  uint64_t Append(IntentJournal* j, const std::vector<std::string>& names) {
    std::vector<Intent> intents;
    for (const std::string& n : names) intents.push_back(SampleIntent(n));
    std::vector<std::pair<std::string_view, const Intent*>> refs;
    for (size_t i = 0; i < names.size(); ++i) refs.emplace_back(names[i], &intents[i]);
    uint64_t batch = 0;
    Status s = j->Append(refs, /*sync=*/true, &batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return batch;
  }

  // Step C of `batch`: the close put (if any) in one synced write.
  void Close(IntentJournal* j, uint64_t batch) {
    std::vector<StateWrite> writes;
    j->AddCloseWrite(batch, &writes);
    if (!writes.empty()) {
      ASSERT_TRUE(state_.Apply(writes, /*sync=*/true).ok());
    }
    j->Closed(batch);
  }

  // The ids of the open intents, as a fresh opening of the file sees them.
  std::vector<std::string> OpenIds() {
    IntentJournal j(Env::Default(), &state_, kNeverReset);
    Status s = j.Open(dir_);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<IntentJournal::OpenIntent> open;
    uint64_t last = 0;
    s = j.ReadOpen(&open, &last);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<std::string> ids;
    for (const auto& o : open) ids.push_back(o.id);
    return ids;
  }

  std::vector<std::string> StateIntentIds() {
    std::vector<std::string> ids;
    (void)state_.Scan(keys::kIntent, [&](std::string_view k, std::string_view) {
      ids.emplace_back(k.substr(keys::kIntent.size()));
      return true;
    });
    return ids;
  }

  fs::path JournalPath() const { return base_ / std::string(IntentJournal::kFileName); }
  uint64_t JournalSize() const { return fs::file_size(JournalPath()); }

  TempRoot tmp_{"intent_journal_test"};
  fs::path base_;
  File dir_;
  MemStateStore state_;
};

using Ids = std::vector<std::string>;

TEST_F(IntentJournalTest, AppendedBatchStaysOpenUntilItsCloseLands) {
  auto j = Recovered();
  const uint64_t batch = Append(j.get(), {"a", "b"});
  EXPECT_EQ(batch, 1u);
  EXPECT_EQ(OpenIds(), (Ids{"a", "b"}));
  Close(j.get(), batch);
  EXPECT_EQ(OpenIds(), Ids{});
}

TEST_F(IntentJournalTest, OpenIntentsKeepEveryField) {
  auto j = Recovered();
  Append(j.get(), {"x.csv"});
  IntentJournal again(Env::Default(), &state_, kNeverReset);
  ASSERT_TRUE(again.Open(dir_).ok());
  std::vector<IntentJournal::OpenIntent> open;
  uint64_t last = 0;
  ASSERT_TRUE(again.ReadOpen(&open, &last).ok());
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(last, 1u);
  EXPECT_EQ(EncodeIntent(open[0].intent), EncodeIntent(SampleIntent("x.csv")));
}

TEST_F(IntentJournalTest, TornTailIsIgnoredAndEarlierBatchesStayOpen) {
  auto j = Recovered();
  Append(j.get(), {"a"});
  const uint64_t whole = JournalSize();
  Append(j.get(), {"b", "c"});
  for (uint64_t cut : {whole + 1, whole + 30, JournalSize() - 1}) {
    fs::resize_file(JournalPath(), cut);
    EXPECT_EQ(OpenIds(), Ids{"a"}) << "cut at " << cut;
  }
}

TEST_F(IntentJournalTest, FrameWithAWrongChecksumEndsTheJournal) {
  auto j = Recovered();
  Append(j.get(), {"a"});
  const uint64_t whole = JournalSize();
  Append(j.get(), {"b"});
  {
    std::fstream f(JournalPath(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(JournalSize() - 3));
    f.put('#');
  }
  EXPECT_EQ(OpenIds(), Ids{"a"});
  EXPECT_GT(JournalSize(), whole);
}

TEST_F(IntentJournalTest, RecoveryMovesOpenIntentsIntoTheStateAndEmptiesTheFile) {
  {
    auto j = Recovered();
    Close(j.get(), Append(j.get(), {"done"}));
    Append(j.get(), {"a", "b"});
    Append(j.get(), {"c"});
  }
  IntentJournal j(Env::Default(), &state_, kNeverReset);
  ASSERT_TRUE(j.Open(dir_).ok());
  size_t moved = 0;
  ASSERT_TRUE(j.MoveOpenToState(&moved).ok());
  EXPECT_EQ(moved, 3u);
  EXPECT_EQ(StateIntentIds(), (Ids{"a", "b", "c"}));
  EXPECT_EQ(JournalSize(), 0u);
  // Numbering goes on above every batch the file held.
  EXPECT_EQ(Append(&j, {"d"}), 4u);
  EXPECT_EQ(OpenIds(), Ids{"d"});
}

TEST_F(IntentJournalTest, RecoveryOfACleanJournalWritesNothing) {
  {
    auto j = Recovered();
    Close(j.get(), Append(j.get(), {"a"}));
  }
  std::string mark_before;
  ASSERT_TRUE(state_.Get(keys::kIntentsClosed, &mark_before).ok());
  auto j = Recovered();
  EXPECT_EQ(StateIntentIds(), Ids{});
  EXPECT_EQ(JournalSize(), 0u);
  std::string mark_after;
  ASSERT_TRUE(state_.Get(keys::kIntentsClosed, &mark_after).ok());
  EXPECT_EQ(mark_before, mark_after);
}

TEST_F(IntentJournalTest, ABatchClosedBeforeAnEarlierOneStaysOpen) {
  auto j = Recovered();
  const uint64_t first = Append(j.get(), {"a"});
  const uint64_t second = Append(j.get(), {"b"});
  std::vector<StateWrite> writes;
  j->AddCloseWrite(second, &writes);
  EXPECT_TRUE(writes.empty());
  j->Closed(second);
  EXPECT_EQ(OpenIds(), (Ids{"a", "b"}));
  Close(j.get(), first);
  EXPECT_EQ(OpenIds(), Ids{"b"});
}

TEST_F(IntentJournalTest, EmptiedOnlyOnceEveryBatchIsClosed) {
  auto j = Recovered(/*reset_bytes=*/1);
  const uint64_t first = Append(j.get(), {"a"});
  const uint64_t second = Append(j.get(), {"b"});
  Close(j.get(), first);
  ASSERT_TRUE(j->ResetIfClosed(j->reset_bytes()).ok());
  EXPECT_EQ(OpenIds(), Ids{"b"});
  Close(j.get(), second);
  ASSERT_TRUE(j->ResetIfClosed(j->reset_bytes()).ok());
  EXPECT_EQ(JournalSize(), 0u);
  EXPECT_EQ(j->bytes(), 0u);
  EXPECT_EQ(Append(j.get(), {"c"}), 3u);
  EXPECT_EQ(OpenIds(), Ids{"c"});
}

TEST_F(IntentJournalTest, AppendBeforeRecoveryIsRefused) {
  IntentJournal j(Env::Default(), &state_, kNeverReset);
  ASSERT_TRUE(j.Open(dir_).ok());
  Intent in = SampleIntent("a");
  uint64_t batch = 0;
  Status s = j.Append({{"a", &in}}, /*sync=*/true, &batch);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find(JournalPath().string()), std::string::npos) << s.ToString();
}

TEST_F(IntentJournalTest, CountOpenIntentsReadsWithoutChanging) {
  uint64_t count = 99;
  ASSERT_TRUE(CountOpenIntents(Env::Default(), dir_, &state_, &count).ok());
  EXPECT_EQ(count, 0u);  // no file yet
  auto j = Recovered();
  Close(j.get(), Append(j.get(), {"a"}));
  Append(j.get(), {"b", "c"});
  const uint64_t size = JournalSize();
  ASSERT_TRUE(CountOpenIntents(Env::Default(), dir_, &state_, &count).ok());
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(JournalSize(), size);
}

TEST_F(IntentJournalTest, UndecodableMarkIsCorruption) {
  ASSERT_TRUE(state_.Apply({{std::string(keys::kIntentsClosed), "junk"}}, true).ok());
  IntentJournal j(Env::Default(), &state_, kNeverReset);
  Status s = j.Open(dir_);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

}  // namespace
}  // namespace ingest
