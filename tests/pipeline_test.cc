// The threaded pipeline (--concurrency > 1): several workers hash while the
// committer batches. Run under ThreadSanitizer (scripts/test --tsan), this is
// the test that exercises the worker pool, its queues and the committer in
// one process; the end-to-end tests see it only through a child process.

#include "pipeline.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "clock.h"
#include "env.h"
#include "env_wrapper.h"
#include "ingest_pass.h"
#include "intent_journal.h"
#include "manifest.h"
#include "mem_state_store.h"
#include "options.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kNow = 1795341600LL * kNanosPerSecond;  // 2026-11-22T10:00:00Z
constexpr int kFiles = 200;
constexpr int kDistinct = 120;  // files kDistinct.. repeat earlier contents

// Content number `i`, a few hundred bytes so hashing takes a moment.
std::string Content(int i) {
  std::string s = "content " + std::to_string(i) + "\n";
  s += std::string(static_cast<size_t>(64 + (i * 37) % 700), static_cast<char>('a' + i % 26));
  return s;
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (getenv("PIPELINE_TEST_LOG") == nullptr) spdlog::set_level(spdlog::level::off);
    base_ = tmp_.path();
    fs::create_directories(base_ / "in");
    fs::create_directories(base_ / "state");
    options_ = OptionsUnder(base_);
    options_.concurrency = 4;
    options_.batch_size = 3;
    options_.on_duplicate = OnDuplicate::kQuarantine;
  }

  // Stages kFiles files; file i holds Content(i % kDistinct). Returns how
  // many files hold each content.
  std::map<std::string, int> StageFiles() {
    std::map<std::string, int> staged;
    for (int i = 0; i < kFiles; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "f%03d.dat", i);
      std::string c = Content(i % kDistinct);
      WriteFile(base_ / "in" / name, c);
      ++staged[c];
    }
    return staged;
  }

  // Puts a file where the next pass's manifest directory must go, so that
  // its first batch's manifest append fails after its files were moved.
  // Returns the file, for removing it.
  fs::path BlockNextPassManifest() {
    const UtcTime hour(clock_.NowNs() + kNanosPerSecond);
    const fs::path blocker = base_ / "mf" / hour.HourPath();
    fs::create_directories(blocker.parent_path());
    WriteFile(blocker, "not a directory");
    return blocker;
  }

  Status Pass(PassStats* stats, Env* env = Env::Default()) {
    clock_.Advance(kNanosPerSecond);
    return RunIngestPass(options_, env, &clock_, &state_, stats);
  }

  // Contents of the regular files under `dir`, skipping the subtrees named
  // in `skip`.
  std::vector<std::string> Contents(const fs::path& dir, const std::set<std::string>& skip) {
    std::vector<std::string> out;
    if (!fs::exists(dir)) return out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
      if (it->is_directory() && skip.count(it->path().filename().string())) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) out.push_back(ReadFile(it->path()));
    }
    return out;
  }

  std::vector<ManifestRecord> ManifestRecords() {
    std::vector<ManifestRecord> out;
    for (const auto& e : fs::recursive_directory_iterator(base_ / "mf")) {
      if (!e.is_regular_file()) continue;
      std::istringstream lines(ReadFile(e.path()));
      std::string line;
      while (std::getline(lines, line)) {
        ManifestRecord r;
        EXPECT_TRUE(ParseManifestLine(line, &r)) << line;
        out.push_back(r);
      }
    }
    return out;
  }

  // How many times each content is in the warehouse's partitions.
  std::map<std::string, int> Ingested() {
    std::map<std::string, int> n;
    for (const std::string& c :
         Contents(base_ / "wh", {"_duplicates", ".atomic-ingest-tmp", ".atomic-ingest-claims"})) {
      ++n[c];
    }
    return n;
  }

  // The end state of draining staging: each content staged is in the
  // warehouse's partitions once, with one manifest record, and its other
  // copies are quarantined.
  void ExpectEachContentIngestedOnce(const std::map<std::string, int>& staged) {
    EXPECT_TRUE(fs::is_empty(base_ / "in"));

    const std::map<std::string, int> ingested = Ingested();
    EXPECT_EQ(ingested.size(), staged.size());
    for (const auto& [content, n] : ingested) {
      EXPECT_EQ(n, 1) << "ingested " << n << " times: " << content.substr(0, 12);
      EXPECT_TRUE(staged.count(content)) << "never staged: " << content.substr(0, 12);
    }

    std::map<std::string, int> quarantined;
    for (const std::string& c : Contents(base_ / "wh" / "_duplicates", {})) ++quarantined[c];
    for (const auto& [content, n] : staged) {
      const int q = quarantined.count(content) ? quarantined.at(content) : 0;
      EXPECT_EQ(q, n - 1) << "content " << content.substr(0, 12);
    }
    EXPECT_EQ(Contents(base_ / "wh" / ".atomic-ingest-tmp", {}).size(), 0u);

    std::vector<ManifestRecord> records = ManifestRecords();
    EXPECT_EQ(records.size(), staged.size());
    std::set<std::string> shas;
    for (const ManifestRecord& r : records) {
      EXPECT_TRUE(shas.insert(r.sha256).second) << "two records for " << r.sha256;
      EXPECT_TRUE(fs::is_regular_file(r.path)) << r.path;
    }
  }

  // After a failed pass: every content staged is still in staging or in
  // the partitions.
  void ExpectNoContentLost(const std::map<std::string, int>& staged) {
    std::map<std::string, int> present = Ingested();
    for (const std::string& c : Contents(base_ / "in", {})) ++present[c];
    for (const auto& [content, n] : staged) {
      EXPECT_GT(present.count(content), 0u) << "lost: " << content.substr(0, 12);
    }
  }

  // Clean passes until staging is empty (at most three), as later timer
  // ticks would run them.
  void DrainStaging() {
    for (int pass = 0; pass < 3 && !fs::is_empty(base_ / "in"); ++pass) {
      PassStats stats;
      Status s = Pass(&stats);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  // The end state with --on-duplicate delete: staging empty, and each
  // content in the partitions once, with one manifest record.
  void ExpectEachContentOnceWithDuplicatesDeleted(const std::map<std::string, int>& staged) {
    EXPECT_TRUE(fs::is_empty(base_ / "in"));
    const std::map<std::string, int> ingested = Ingested();
    EXPECT_EQ(ingested.size(), staged.size());
    for (const auto& [content, n] : ingested) EXPECT_EQ(n, 1) << content.substr(0, 12);
    EXPECT_EQ(ManifestRecords().size(), staged.size());
  }

  TempRoot tmp_{"pipeline_test"};
  fs::path base_;
  Options options_;
  MemStateStore state_;
  ManualClock clock_{kNow};
};

TEST_F(PipelineTest, ConcurrentWorkersIngestEachContentOnceAndQuarantineDuplicates) {
  const std::map<std::string, int> staged = StageFiles();
  ASSERT_EQ(staged.size(), static_cast<size_t>(kDistinct));

  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stats.files_ingested, static_cast<uint64_t>(kDistinct));
  EXPECT_EQ(stats.duplicates, static_cast<uint64_t>(kFiles - kDistinct));
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.deferred, 0u);

  ExpectEachContentIngestedOnce(staged);
}

TEST_F(PipelineTest, JournalEmptiedBetweenOverlappingBatchesLosesNoIntent) {
  // Any size calls for emptying the intent journal before each batch: the
  // committer must first wait for the batch being finished.
  options_.journal_reset_bytes = 1;
  const std::map<std::string, int> staged = StageFiles();
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stats.files_ingested, static_cast<uint64_t>(kDistinct));
  EXPECT_EQ(stats.failed, 0u);
  ExpectEachContentIngestedOnce(staged);
  EXPECT_EQ(fs::file_size(base_ / "state" / std::string(IntentJournal::kFileName)), 0u);
  std::string mark;
  ASSERT_TRUE(state_.Get(keys::kIntentsClosed, &mark).ok());
}

TEST_F(PipelineTest, OneNameInManyDirectoriesIsIngestedWholeInOnePass) {
  // --recursive: the same name in 40 directories, different contents, in
  // batches of 3 committed while workers look ahead. Each later file must
  // get a collision name in this same pass, never wait or clash.
  options_.recursive = true;
  std::map<std::string, int> staged;
  for (int i = 0; i < 40; ++i) {
    const fs::path dir = base_ / "in" / ("host" + std::to_string(i));
    fs::create_directories(dir);
    WriteFile(dir / "app.log", Content(i));
    ++staged[Content(i)];
  }
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(stats.files_ingested, 40u);
  EXPECT_EQ(stats.deferred, 0u);
  EXPECT_EQ(stats.failed, 0u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_FALSE(fs::exists(base_ / "in" / ("host" + std::to_string(i)) / "app.log")) << i;
  }
  const std::map<std::string, int> ingested = Ingested();
  EXPECT_EQ(ingested.size(), staged.size());
  for (const auto& [content, n] : ingested) EXPECT_EQ(n, 1) << content.substr(0, 12);
  EXPECT_EQ(ManifestRecords().size(), 40u);
}

TEST_F(PipelineTest, ResentContentIsQuarantinedByLaterConcurrentPasses) {
  StageFiles();
  PassStats stats;
  Status s = Pass(&stats);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(stats.files_ingested, static_cast<uint64_t>(kDistinct));

  // The same contents again under new names: all are duplicates now.
  for (int i = 0; i < kDistinct; ++i) {
    WriteFile(base_ / "in" / ("again" + std::to_string(i) + ".dat"), Content(i));
  }
  PassStats again;
  s = Pass(&again);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(again.files_ingested, 0u);
  EXPECT_EQ(again.duplicates, static_cast<uint64_t>(kDistinct));
  EXPECT_TRUE(fs::is_empty(base_ / "in"));
  EXPECT_EQ(ManifestRecords().size(), static_cast<size_t>(kDistinct));

  // A pass over an empty staging directory does nothing.
  PassStats idle;
  s = Pass(&idle);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(idle.files_ingested + idle.duplicates + idle.failed, 0u);
}

// A commit that fails while the workers are busy stops the pass: the
// committer closes the work queue, the scanner and the workers wind down
// and every thread is joined, with nothing committed twice. A later pass
// recovers and finishes.
TEST_F(PipelineTest, FailedCommitStopsEveryWorkerAndALaterPassFinishes) {
  const std::map<std::string, int> staged = StageFiles();
  const fs::path blocker = BlockNextPassManifest();

  PassStats failed;
  Status s = Pass(&failed);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(failed.files_ingested, 0u);
  for (const auto& [content, n] : Ingested()) {
    EXPECT_EQ(n, 1) << "ingested " << n << " times: " << content.substr(0, 12);
  }

  fs::remove(blocker);
  ASSERT_NO_FATAL_FAILURE(DrainStaging());
  ExpectEachContentIngestedOnce(staged);
}

// As above with duplicates deleted: batches after the failing one were
// planned while it was unfinished, some of their files as duplicates of its
// contents. Those deletions must not go ahead once the original's commit
// is undone, so every content stays somewhere and ends up ingested once.
TEST_F(PipelineTest, FailedCommitNeverDeletesADuplicateOfWhatItUndid) {
  options_.on_duplicate = OnDuplicate::kDelete;
  const std::map<std::string, int> staged = StageFiles();
  const fs::path blocker = BlockNextPassManifest();

  PassStats failed;
  EXPECT_FALSE(Pass(&failed).ok());
  ExpectNoContentLost(staged);

  fs::remove(blocker);
  ASSERT_NO_FATAL_FAILURE(DrainStaging());
  ExpectEachContentOnceWithDuplicatesDeleted(staged);
}

// Fails the fdatasync of a manifest file after `ok` of them succeeded: the
// records of that one batch (step R) do not become durable.
class FailOneManifestSync final : public EnvWrapper {
 public:
  explicit FailOneManifestSync(int ok) : EnvWrapper(Env::Default()), left_(ok) {}
  Status DataSync(const File& file) override {
    if (file.path().ends_with(kManifestFileName) && left_.fetch_sub(1) == 0) {
      return Status::IOError("injected fdatasync failure on " + file.path(), EIO);
    }
    return EnvWrapper::DataSync(file);
  }

 private:
  std::atomic<int> left_;
};

// One batch in the middle of a pass fails at R while the next may already
// be moved: the batches before it stay committed, it is undone, and what
// the batches handed on after it left open in the intent journal is
// finished by the next pass's recovery. Each content ends up ingested once.
TEST_F(PipelineTest, OneBatchFailingMidPassLeavesTheLaterOnesToRecovery) {
  options_.on_duplicate = OnDuplicate::kDelete;
  const std::map<std::string, int> staged = StageFiles();
  FailOneManifestSync env(/*ok=*/2);

  PassStats failed;
  EXPECT_FALSE(Pass(&failed, &env).ok());
  EXPECT_EQ(ManifestRecords().size(), failed.files_ingested);
  EXPECT_GE(failed.files_ingested, 2u);
  ExpectNoContentLost(staged);

  ASSERT_NO_FATAL_FAILURE(DrainStaging());
  ExpectEachContentOnceWithDuplicatesDeleted(staged);
  File state_dir;
  ASSERT_TRUE(Env::Default()->OpenDir((base_ / "state").string(), &state_dir).ok());
  uint64_t open = 0;
  ASSERT_TRUE(CountOpenIntents(Env::Default(), state_dir, &state_, &open).ok());
  EXPECT_EQ(open, 0u);
  int in_state = 0;
  (void)state_.Scan(keys::kIntent, [&](std::string_view, std::string_view) {
    ++in_state;
    return true;
  });
  EXPECT_EQ(in_state, 0);
}

}  // namespace
}  // namespace ingest
