// Exhaustive crash enumeration: the exactly-once claim, checked at every
// operation of the commit protocol and of the recovery after it.
//
// For each scenario (same or other filesystem, stability or sidecar mode,
// duplicate policy, kill -9 or power loss), a workload of a few files is
// ingested with a FaultEnv that crashes after operation k, for every k the
// clean run performs. After each crash the invariants that readers rely on
// at any instant are checked; then a recovery pass runs, itself crashed at
// every operation j, and finally clean passes drain staging and the full
// invariants are checked.
//
// The workload runs with --exec; its hooks are run by CountingHookRunner,
// whose every run is an operation of the FaultEnv (so a crash can fall
// between a hook's success and the deletion of its record) and which
// remembers the contents whose hook completed, as the outside world would.

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "claims.h"
#include "fault_env.h"
#include "hooks.h"
#include "ingest_pass.h"
#include "intent_journal.h"
#include "manifest.h"
#include "mem_state_store.h"
#include "records.h"
#include "sha256.h"
#include "test_support.h"
#include "turn_scheduler.h"
#include "warehouse.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kStart = 1795341600LL * kNanosPerSecond;  // 2026-11-22T10:00:00Z

struct Scenario {
  const char* name;
  bool cross_fs;
  Mode mode;
  OnDuplicate on_duplicate;
  // Whether the crash is a kill (nullopt) or a power loss of this kind.
  std::optional<FaultEnv::PowerLossMode> power_loss;
  // Whether rename takes no flags (as on CephFS or NFS), so that files
  // move by link() and unlink().
  bool link_moves = false;
  // Whether every run after the crash sees the files through another
  // mount (another host taking over): same inodes, other st_dev.
  bool takeover = false;
  // Whether a second instance (its own staging directory and state, the
  // same warehouse and manifest root) with an overlapping workload runs a
  // whole pass between the crash and the recovery, and takes turns with
  // it until both are drained.
  bool peer = false;
  // With `peer`: the two are shards 0/2 and 1/2 of one staging directory
  // (--shard), each with its own state, instead of two staging
  // directories.
  bool shards = false;
  // Whether batches finish on a second thread (as with --concurrency 2),
  // the two threads' operations ordered by `policy` (turn_scheduler.h).
  bool pipelined = false;
  TurnScheduler::Policy policy = TurnScheduler::Policy::kAlternate;
  uint64_t seed = 0;
  // Whether the recovery after each crash is itself crashed at each of its
  // operations (the square of the operations), or only run through.
  bool crash_recovery = true;
  // Whether the intent journal keeps every frame until the pass ends.
  // Without it, a power-loss scenario empties the journal before every
  // batch (which waits for the batches being finished), so that crashes
  // around the truncation are enumerated too.
  bool keep_journal = false;
};

// Runs no program: a hook's run is one FaultEnv operation, and a run that
// happened is remembered in `completed` (sha256s).
class CountingHookRunner final : public HookRunner {
 public:
  CountingHookRunner(FaultEnv* env, std::set<std::string>* completed)
      : env_(env), completed_(completed) {}
  Status Run(const HookRecord& rec) override {
    Status s;
    if (!env_->BeforeOp("run hook", &s)) return s;
    std::lock_guard<std::mutex> lock(mu_);
    completed_->insert(rec.sha256);
    return Status::OK();
  }

 private:
  FaultEnv* env_;
  std::mutex mu_;
  std::set<std::string>* completed_;
};

class CrashHarness {
 public:
  explicit CrashHarness(const Scenario& sc) : sc_(sc) {
    base_ = root_.path();
    tree_ = base_ / "tree";
    scratch_ = base_ / "scratch";
    // The state is in the tree too, so that the FaultEnv sees the intent
    // journal.
    options_ = OptionsUnder(tree_);
    options_.mode = sc.mode;
    options_.on_duplicate = sc.on_duplicate;
    options_.concurrency = 1;
    options_.batch_size = 2;
    options_.recursive = true;
    options_.exec_argv = {"hook"};
    options_.pipelined_commit = sc.pipelined;
    if (sc.power_loss && !sc.keep_journal) options_.journal_reset_bytes = 1;
    peer_options_ = options_;
    peer_options_.input = (tree_ / "in-b").string();
    peer_options_.state_path = (tree_ / "state-b").string();
    if (sc.shards) {
      options_.shard = Shard{0, 2};
      peer_options_.shard = Shard{1, 2};
      peer_options_.input = options_.input;
    }
  }

  // A fresh tree: c.csv already ingested with other content (for a name
  // collision), then a workload staged: a duplicate pair, the colliding
  // name, a file with a checksum sidecar and one more.
  void Setup() {
    fs::remove_all(tree_);
    fs::remove_all(scratch_);
    fs::create_directories(tree_ / "in" / "sub");
    fs::create_directories(tree_ / "state");
    fs::create_directories(scratch_);
    if (sc_.peer) {
      if (!sc_.shards) fs::create_directories(tree_ / "in-b");
      fs::create_directories(tree_ / "state-b");
    }
    state_ = std::make_unique<MemStateStore>();
    peer_state_ = std::make_unique<MemStateStore>();
    clock_ = std::make_unique<ManualClock>(kStart);
    taken_over_ = false;
    hooks_completed_.clear();
    Stage("c.csv", "c,old\n1,2\n");
    ASSERT_TRUE(Pass(nullptr).ok());
    // c.csv is shard 1's (the shard of each name: shard_test.cc).
    if (sc_.shards) {
      ASSERT_TRUE(PeerPass().ok());
    }
    Stage("a.csv", "alpha\n");
    Stage("b.csv", "alpha\n");
    // Pipelined, a copy in the next batch too, planned while the batch
    // that ingests its content may not have written its state yet.
    if (sc_.pipelined) Stage("g.csv", "alpha\n");
    Stage("c.csv", "c,new\n3,4\n");
    Stage("d.csv", std::string(3000, 'd'), /*sha_sidecar=*/true);
    Stage("e.log", "echo\n");
    // With --recursive, a file in a subdirectory: its intent names the
    // directory, which recovery must reopen.
    Stage("sub/f.csv", "foxtrot\n");
    if (sc_.shards) {
      // Shard 0 takes a, b, d, and shard 1 c, e, sub/f and these: a copy
      // of a content shard 0 is committing, and one of its own.
      Stage("v.csv", "alpha\n");
      Stage("u.csv", "uniform\n");
    } else if (sc_.peer) {
      // The peer's staging: a copy of a content the first instance is
      // committing, and one of its own.
      Stage("../in-b/x.csv", "alpha\n");
      Stage("../in-b/y.csv", "yankee\n");
    }
  }

  // One whole pass of the peer instance (scenario().peer), on a clean env.
  Status PeerPass() {
    std::unique_ptr<FaultEnv> env = NewEnv();
    FaultStateStore store(peer_state_.get(), env.get());
    CountingHookRunner hooks(env.get(), &hooks_completed_);
    PassStats stats;
    clock_->Advance(kNanosPerSecond);
    return RunIngestPass(peer_options_, env.get(), clock_.get(), &store, &stats,
                         /*stop=*/nullptr, &hooks);
  }

  // Runs one pass with `env` (a clean FaultEnv when null). Crash errors are
  // expected and returned.
  Status Pass(FaultEnv* env, PassStats* stats_out = nullptr) {
    std::unique_ptr<FaultEnv> clean;
    if (env == nullptr) {
      clean = NewEnv();
      env = clean.get();
    }
    FaultStateStore store(state_.get(), env);
    CountingHookRunner hooks(env, &hooks_completed_);
    PassStats stats;
    clock_->Advance(kNanosPerSecond);
    Status s = RunIngestPass(options_, env, clock_.get(), &store, &stats, /*stop=*/nullptr, &hooks);
    if (stats_out != nullptr) *stats_out = stats;
    return s;
  }

  std::unique_ptr<FaultEnv> NewEnv() {
    auto env = std::make_unique<FaultEnv>(
        tree_.string(), sc_.cross_fs ? options_.warehouse : std::string(), scratch_.string());
    if (sc_.link_moves) env->RejectRenameFlags();
    if (taken_over_) env->SeeThroughAnotherMount();
    if (sc_.pipelined) env->OrderThreads(std::make_unique<TurnScheduler>(sc_.policy, sc_.seed));
    return env;
  }

  // From now on until the next Setup(), runs happen on the other host when
  // the scenario is a takeover.
  void TakeOver() { taken_over_ = sc_.takeover; }

  void PowerLoss(FaultEnv* env) {
    if (!sc_.power_loss) return;
    env->PowerLoss(*sc_.power_loss);
    state_->DropUnsynced();
  }

  // What must hold at every instant, even right after a crash: no content
  // twice in the partitions, and every complete manifest record names a
  // file that holds exactly the content its sha256 names.
  void CheckAlways(const std::string& where) {
    std::map<std::string, int> in_partitions;
    for (const auto& [path, sha] : PartitionFiles()) ++in_partitions[sha];
    for (const auto& [sha, n] : in_partitions) {
      EXPECT_EQ(n, 1) << where << ": content " << sha << " is in the partitions " << n << " times";
    }
    std::map<std::string, int> in_manifests;
    for (const ManifestRecord& r : ManifestRecords()) {
      ++in_manifests[r.sha256];
      ASSERT_TRUE(fs::exists(r.path)) << where << ": manifest names missing " << r.path;
      EXPECT_EQ(Sha256::HexOf(ReadFile(r.path)), r.sha256)
          << where << ": " << r.path << " does not hold its manifest content";
    }
    for (const auto& [sha, n] : in_manifests) {
      EXPECT_EQ(n, 1) << where << ": content " << sha << " has " << n << " manifest records";
    }
    // A record once durable stands on a durable claim of its content, or
    // another instance could ingest the content again.
    const std::map<std::string, Claim> claims = Claims(where);
    for (const ManifestRecord& r : ManifestRecords()) {
      auto it = claims.find(r.sha256);
      ASSERT_TRUE(it != claims.end()) << where << ": content " << r.sha256 << " has no claim";
      EXPECT_EQ((tree_ / "wh" / it->second.path).string(), r.path)
          << where << ": the claim of " << r.sha256 << " names another file";
    }
    // Once a content counts as ingested, its hook is queued or has run; and
    // no hook ever ran for a content that is not ingested.
    std::set<std::string> contents = StateShas(keys::kContent);
    std::set<std::string> queued = StateShas(keys::kHook);
    for (const std::string& sha : contents) {
      EXPECT_TRUE(queued.count(sha) || hooks_completed_.count(sha))
          << where << ": content " << sha << " has neither a queued nor a completed hook";
    }
    for (const std::string& sha : hooks_completed_) {
      EXPECT_TRUE(contents.count(sha))
          << where << ": a hook ran for content " << sha << " that is not ingested";
    }
  }

  // The states (with their paths): the instance's, and the peer's.
  std::vector<std::pair<MemStateStore*, std::string>> States() const {
    std::vector<std::pair<MemStateStore*, std::string>> out{{state_.get(), options_.state_path}};
    if (sc_.peer) out.emplace_back(peer_state_.get(), peer_options_.state_path);
    return out;
  }

  // The sha256s of the content records (kContent) or of the queued hooks
  // (kHook) in the states.
  std::set<std::string> StateShas(std::string_view prefix) {
    std::set<std::string> out;
    for (auto [state, path] : States()) StateShasOf(state, prefix, &out);
    return out;
  }

  void StateShasOf(MemStateStore* state, std::string_view prefix, std::set<std::string>* shas) {
    std::set<std::string>& out = *shas;
    (void)state->Scan(prefix, [&](std::string_view key, std::string_view value) {
      HookRecord h;
      if (prefix == keys::kHook) {
        EXPECT_TRUE(DecodeHookRecord(value, &h)) << "undecodable hook record";
        out.insert(h.sha256);
      } else {
        out.insert(std::string(key.substr(prefix.size())));
      }
      return true;
    });
  }

  // What must hold once recovery and clean passes have drained staging.
  void CheckFinal(const std::string& where) {
    CheckAlways(where);
    const std::set<std::string>& contents = expected_;
    std::map<std::string, std::string> partitions = PartitionFiles();
    std::set<std::string> in_partitions;
    for (const auto& [path, sha] : partitions) in_partitions.insert(sha);
    std::set<std::string> in_manifests;
    for (const ManifestRecord& r : ManifestRecords()) in_manifests.insert(r.sha256);
    for (const std::string& sha : contents) {
      EXPECT_TRUE(in_partitions.count(sha)) << where << ": content " << sha << " was lost";
      EXPECT_TRUE(in_manifests.count(sha)) << where << ": content " << sha << " has no record";
    }
    EXPECT_EQ(in_manifests.size(), contents.size()) << where;
    // Claims only for what was ingested: none leaked by a rolled-back commit.
    std::set<std::string> claimed;
    for (const auto& [sha, claim] : Claims(where)) claimed.insert(sha);
    EXPECT_EQ(claimed, in_manifests) << where << ": claims differ from the ingested contents";
    // Staging is drained: nothing left but what was never ours.
    for (const fs::path& in : StagingDirs()) {
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        if (!e.is_directory()) ADD_FAILURE() << where << ": left in staging: " << e.path();
      }
    }
    // Duplicates were quarantined (or deleted), never dropped silently.
    if (sc_.on_duplicate == OnDuplicate::kQuarantine && !upstream_data_lost_) {
      int quarantined = 0;
      if (fs::exists(tree_ / "wh" / "_duplicates")) {
        for (const auto& e : fs::recursive_directory_iterator(tree_ / "wh" / "_duplicates")) {
          if (e.is_regular_file()) {
            ++quarantined;
            EXPECT_EQ(ReadFile(e.path()), "alpha\n") << where;
          }
        }
      }
      // One copy of "alpha" is ingested, each other one quarantined.
      const int copies = 1 + (sc_.peer ? 1 : 0) + (sc_.pipelined ? 1 : 0);
      EXPECT_EQ(quarantined, copies) << where << ": duplicates not quarantined exactly once";
    }
    // No temp copies, no open intents.
    fs::path tmp = tree_ / "wh" / std::string(kTempDirName);
    if (fs::exists(tmp)) {
      for (const auto& e : fs::directory_iterator(tmp)) {
        ADD_FAILURE() << where << ": temp left: " << e.path();
      }
    }
    for (auto [state, path] : States()) {
      int intents = 0;
      (void)state->Scan(keys::kIntent, [&](std::string_view, std::string_view) {
        ++intents;
        return true;
      });
      EXPECT_EQ(intents, 0) << where << ": open intents remain in " << path;
      File state_dir;
      ASSERT_TRUE(Env::Default()->OpenDir(path, &state_dir).ok());
      uint64_t journaled = 0;
      Status counted = CountOpenIntents(Env::Default(), state_dir, state, &journaled);
      ASSERT_TRUE(counted.ok()) << counted.ToString();
      EXPECT_EQ(journaled, 0u) << where << ": open intents remain in the journal of " << path;
    }
    // Every hook ran (at least once), and none is left queued.
    EXPECT_EQ(StateShas(keys::kHook), std::set<std::string>()) << where << ": hooks left queued";
    EXPECT_EQ(hooks_completed_, StateShas(keys::kContent)) << where;
  }

  // The content claims in the warehouse, by sha256.
  std::map<std::string, Claim> Claims(const std::string& where) {
    std::map<std::string, Claim> out;
    File wh;
    if (!fs::exists(tree_ / "wh")) return out;
    Status s = Env::Default()->OpenDir((tree_ / "wh").string(), &wh);
    if (s.ok()) s = ReadAllClaims(Env::Default(), wh, &out);
    EXPECT_TRUE(s.ok()) << where << ": " << s.ToString();
    return out;
  }

  // Every file under the tree (path, content hash), to show a pass changed
  // nothing.
  std::map<std::string, std::string> TreeSnapshot() {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(tree_)) {
      out[e.path().string()] = e.is_regular_file() ? Sha256::HexOf(ReadFile(e.path())) : "dir";
    }
    return out;
  }

  // Drives staging to empty with clean passes, as later timer ticks would
  // (taking turns with the peer, if any).
  void Drain() {
    for (int i = 0; i < 3; ++i) {
      Status s = Pass(nullptr);
      ASSERT_TRUE(s.ok()) << s.ToString();
      if (sc_.peer) {
        s = PeerPass();
        ASSERT_TRUE(s.ok()) << s.ToString();
      }
      if (StagingEmpty()) return;
    }
  }

  bool StagingEmpty() {
    for (const fs::path& in : StagingDirs()) {
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        if (!e.is_directory()) return false;
      }
    }
    return true;
  }

  // The staging directories: the instance's, and the peer's.
  std::vector<fs::path> StagingDirs() const {
    std::vector<fs::path> out{tree_ / "in"};
    if (sc_.peer && !sc_.shards) out.push_back(tree_ / "in-b");
    return out;
  }

  // The contents that must end up ingested, taken right after the first
  // crash: what the manifests, the partitions and staging hold. A power
  // loss may have cut staged files that their writer never synced; those
  // are ingested as they now are, which is not ours to prevent.
  void RecordExpected() {
    expected_.clear();
    for (const ManifestRecord& r : ManifestRecords()) expected_.insert(r.sha256);
    for (const auto& [path, sha] : PartitionFiles()) expected_.insert(sha);
    for (const fs::path& in : StagingDirs()) {
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        if (e.is_regular_file() && e.path().extension() != ".ok") {
          expected_.insert(Sha256::HexOf(ReadFile(e.path())));
        }
      }
    }
    std::set<std::string> staged;
    for (const auto& [name, content] : staged_) staged.insert(Sha256::HexOf(content));
    upstream_data_lost_ = expected_ != staged;
  }

  // Upstream writers need not fsync what they drop.
  void MarkStagedUnsynced(FaultEnv* env) {
    for (const fs::path& in : StagingDirs()) {
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        if (e.is_regular_file()) env->MarkUnsynced(e.path().string());
      }
    }
  }

  const Scenario& scenario() const { return sc_; }

 private:
  void Stage(const std::string& name, const std::string& content, bool sha_sidecar = false) {
    WriteFile(tree_ / "in" / name, content);
    staged_.emplace_back(name, content);
    if (sc_.mode == Mode::kSidecar) {
      WriteFile(tree_ / "in" / (name + ".ok"),
                sha_sidecar ? Sha256::HexOf(content) + "  " + name + "\n" : "");
    }
  }

  std::map<std::string, std::string> PartitionFiles() {
    std::map<std::string, std::string> out;
    fs::path wh = tree_ / "wh";
    if (!fs::exists(wh)) return out;
    for (const auto& part : fs::directory_iterator(wh)) {
      if (part.path().filename().string().rfind("ingest_date=", 0) != 0) continue;
      for (const auto& e : fs::directory_iterator(part.path())) {
        out[e.path().string()] = Sha256::HexOf(ReadFile(e.path()));
      }
    }
    return out;
  }

  std::vector<ManifestRecord> ManifestRecords() {
    std::vector<ManifestRecord> out;
    fs::path mf = tree_ / "mf";
    if (!fs::exists(mf)) return out;
    for (const auto& e : fs::recursive_directory_iterator(mf)) {
      if (!e.is_regular_file()) continue;
      std::istringstream lines(ReadFile(e.path()));
      for (std::string line; std::getline(lines, line);) {
        ManifestRecord r;
        // A torn last line is not a record yet; recovery truncates it.
        if (ParseManifestLine(line, &r)) out.push_back(r);
      }
    }
    return out;
  }

  Scenario sc_;
  // The FaultEnv models durability itself, so the real filesystem only has
  // to be fast: tmpfs where there is one.
  TempRoot root_{"crash_test", access("/dev/shm", W_OK) == 0 ? "/dev/shm/" : "/tmp/"};
  fs::path base_, tree_, scratch_;
  Options options_;
  Options peer_options_;
  std::unique_ptr<MemStateStore> state_;
  std::unique_ptr<MemStateStore> peer_state_;
  std::unique_ptr<ManualClock> clock_;
  std::vector<std::pair<std::string, std::string>> staged_;  // every file ever staged
  std::set<std::string> expected_;
  bool upstream_data_lost_ = false;
  bool taken_over_ = false;
  // Contents whose hook completed, over every run since Setup().
  std::set<std::string> hooks_completed_;
};

// How the scheduler ordered the first `n` operations of a pipelined pass:
// for each, the rank of its thread and what kind of operation it was
// ("1 syncfs"). Empty for a pass without a scheduler.
using Order = std::vector<std::string>;
Order OrderOf(const FaultEnv& env, uint64_t n = UINT64_MAX) {
  Order out;
  if (env.turns() == nullptr) return out;
  std::istringstream lines(env.turns()->log());
  for (std::string line; out.size() < n && std::getline(lines, line);) {
    out.push_back(line.substr(0, line.find(' ', 2)));
  }
  return out;
}

// The first `n` entries of `order`.
Order Prefix(const Order& order, uint64_t n) {
  return Order(order.begin(),
               order.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(n, order.size())));
}

// Runs the workload up to a crash after operation k (with power loss when
// the scenario says so). Returns whether the crash happened. With `order`,
// also how the scheduler ordered the threads' operations up to the crash,
// for a pipelined scenario.
bool CrashAt(CrashHarness* h, uint64_t k, Order* order = nullptr) {
  h->Setup();
  std::unique_ptr<FaultEnv> env = h->NewEnv();
  // Only where the mode lets renames outlive data does unsynced upstream
  // data test anything of ours; elsewhere it would only lose the input.
  if (h->scenario().power_loss == FaultEnv::PowerLossMode::kMetadataOnly) {
    h->MarkStagedUnsynced(env.get());
  }
  env->CrashAfter(k);
  (void)h->Pass(env.get());
  if (order != nullptr) *order = OrderOf(*env, k + 1);
  h->PowerLoss(env.get());
  h->TakeOver();
  if (h->scenario().peer) {
    Status s = h->PeerPass();
    EXPECT_TRUE(s.ok()) << "the peer's pass after the crash: " << s.ToString();
  }
  h->RecordExpected();
  return env->crashed();
}

// The operations of a clean pass; with `order`, also how the scheduler
// ordered them, for a pipelined scenario, and with `summary` the ranks of
// their threads in one line and how many turns were contested.
uint64_t CountOps(CrashHarness* h, Order* order = nullptr, std::string* summary = nullptr) {
  std::unique_ptr<FaultEnv> env = h->NewEnv();
  Status s = h->Pass(env.get());
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (order != nullptr) *order = OrderOf(*env);
  if (summary != nullptr && env->turns() != nullptr) {
    *summary = std::to_string(env->turns()->contested()) + " turns contested, order " +
               env->turns()->trace();
    if (getenv("CRASH_TEST_LOG") != nullptr) std::printf("%s", env->turns()->log().c_str());
  }
  return env->ops();
}

void Enumerate(const Scenario& sc) {
  if (getenv("CRASH_TEST_LOG") == nullptr) spdlog::set_level(spdlog::level::off);
  CrashHarness h(sc);
  h.Setup();
  // Pipelined, the order of the threads' operations in the clean pass,
  // which every crashed pass must repeat up to its crash (and likewise the
  // recovery's).
  Order order;
  std::string summary;
  const uint64_t total = CountOps(&h, &order, &summary);
  ASSERT_GT(total, 10u);
  if (sc.pipelined) std::printf("%s: %s\n", sc.name, summary.c_str());
  const char* kNotRepeated = ": the scheduler did not repeat the order";
  uint64_t states = 0;
  for (uint64_t k = 0; k < total; ++k) {
    const std::string at = std::string(sc.name) + " crash after op " + std::to_string(k);
    Order crashed;
    ASSERT_TRUE(CrashAt(&h, k, &crashed)) << at;
    ASSERT_EQ(crashed, Prefix(order, k + 1)) << at << kNotRepeated;
    h.CheckAlways(at);
    ++states;
    if (sc.crash_recovery) {
      // How long is the recovery pass from this state?
      Order recovery;
      const uint64_t recovery_ops = CountOps(&h, &recovery);
      // Crash the recovery itself at each of its operations.
      for (uint64_t j = 0; j < recovery_ops; ++j) {
        const std::string at2 = at + ", then after recovery op " + std::to_string(j);
        ASSERT_TRUE(CrashAt(&h, k, &crashed)) << at2;
        ASSERT_EQ(crashed, Prefix(order, k + 1)) << at2 << kNotRepeated;
        std::unique_ptr<FaultEnv> env = h.NewEnv();
        env->CrashAfter(j);
        (void)h.Pass(env.get());
        ASSERT_EQ(OrderOf(*env, j + 1), Prefix(recovery, j + 1)) << at2 << kNotRepeated;
        h.PowerLoss(env.get());
        h.CheckAlways(at2);
        h.Drain();
        h.CheckFinal(at2);
        ++states;
        if (::testing::Test::HasFailure()) return;
      }
      // Back to the state the crash left, for the uninterrupted recovery.
      ASSERT_TRUE(CrashAt(&h, k, &crashed)) << at;
      ASSERT_EQ(crashed, Prefix(order, k + 1)) << at << kNotRepeated;
    }
    // The uninterrupted recovery, then a second one that must change
    // nothing.
    h.Drain();
    h.CheckFinal(at);
    auto before = h.TreeSnapshot();
    ASSERT_TRUE(h.Pass(nullptr).ok());
    EXPECT_EQ(before, h.TreeSnapshot()) << at << ": a second recovery changed the tree";
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("%s: %llu operations, %llu crash states explored, 0 violations\n", sc.name,
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(states));
}

// Fails each operation in turn with `err`: the failure must be reported
// (the pass stops, or counts a failed file, so the run exits 1), must break
// no invariant, and later clean passes must finish the work. With
// `mount_lost`, each later change fails too, as when the mount is lost
// mid-pass (ENOTCONN from a FUSE filesystem whose client died); the passes
// after it run on another host in takeover scenarios.
void EnumerateFailures(const Scenario& sc, int err, bool mount_lost = false) {
  if (getenv("CRASH_TEST_LOG") == nullptr) spdlog::set_level(spdlog::level::off);
  CrashHarness h(sc);
  h.Setup();
  const uint64_t total = CountOps(&h);
  for (uint64_t k = 1; k <= total; ++k) {
    h.Setup();
    std::unique_ptr<FaultEnv> env = h.NewEnv();
    if (mount_lost) {
      env->FailFrom(k, err);
    } else {
      env->FailAt(k, err);
    }
    PassStats stats;
    Status s = h.Pass(env.get(), &stats);
    const std::string at = std::string(sc.name) + " " + std::strerror(err) + " at op " +
                           std::to_string(k) + " (" + env->last_op() + ")";
    EXPECT_TRUE(!s.ok() || stats.failed > 0 || stats.hooks_failed > 0)
        << at << ": the failure went unreported";
    const std::string op = env->last_op();
    const bool sync = op.rfind("fsync", 0) == 0 || op.rfind("fdatasync", 0) == 0 ||
                      op.rfind("syncfs", 0) == 0 || op == "state write (sync)";
    if (sync) {
      EXPECT_FALSE(s.ok()) << at << ": a failed sync did not stop the pass";
    }
    if (!s.ok()) {
      EXPECT_NE(s.ToString().find(std::strerror(err)), std::string::npos)
          << at << ": the error does not say why: " << s.ToString();
    }
    h.CheckAlways(at);
    if (mount_lost) h.TakeOver();
    h.RecordExpected();
    h.Drain();
    h.CheckFinal(at);
    if (::testing::Test::HasFailure()) return;
  }
  std::printf("%s: %s %llu operations failed with %s, 0 violations\n", sc.name,
              mount_lost ? "from each of" : "each of", static_cast<unsigned long long>(total),
              std::strerror(err));
}

using PL = FaultEnv::PowerLossMode;
constexpr Mode kStab = Mode::kStability;
constexpr Mode kSide = Mode::kSidecar;
constexpr OnDuplicate kQuar = OnDuplicate::kQuarantine;
constexpr OnDuplicate kDel = OnDuplicate::kDelete;

TEST(CrashTest, SameFsKill) { Enumerate({"same-fs kill", false, kStab, kQuar, std::nullopt}); }
TEST(CrashTest, SameFsPowerLoss) {
  Enumerate({"same-fs power loss", false, kStab, kQuar, PL::kDropUnsynced});
}
TEST(CrashTest, SameFsMetadataOnlyPowerLoss) {
  Enumerate({"same-fs metadata-only power loss", false, kStab, kQuar, PL::kMetadataOnly});
}
TEST(CrashTest, SameFsSidecarDeleteTornPowerLoss) {
  Enumerate({"same-fs sidecar delete torn power loss", false, kSide, kDel, PL::kTornWrites});
}
TEST(FailureTest, SameFsEveryOperationFails) {
  for (int err : {EIO, ENOSPC, EROFS}) {
    EnumerateFailures({"same-fs", false, kStab, kQuar, std::nullopt}, err);
    EnumerateFailures({"same-fs sidecar delete", false, kSide, kDel, std::nullopt}, err);
  }
}
TEST(FailureTest, CrossFsEveryOperationFails) {
  for (int err : {EIO, ENOSPC, EROFS}) {
    EnumerateFailures({"cross-fs", true, kStab, kQuar, std::nullopt}, err);
    EnumerateFailures({"cross-fs sidecar delete", true, kSide, kDel, std::nullopt}, err);
  }
}
// Rename takes no flags, as on CephFS, NFS and FUSE: moves by link() and
// unlink(), and recovery of every state between the two.
constexpr bool kLinks = true;
TEST(CrashTest, SameFsLinkKill) {
  Enumerate({"same-fs link kill", false, kStab, kQuar, std::nullopt, kLinks});
}
TEST(CrashTest, SameFsLinkPowerLoss) {
  Enumerate({"same-fs link power loss", false, kStab, kQuar, PL::kDropUnsynced, kLinks});
}
TEST(CrashTest, SameFsLinkSidecarDeleteTornPowerLoss) {
  Enumerate(
      {"same-fs link sidecar delete torn power loss", false, kSide, kDel, PL::kTornWrites, kLinks});
}
TEST(CrashTest, CrossFsLinkPowerLoss) {
  Enumerate({"cross-fs link power loss", true, kStab, kQuar, PL::kDropUnsynced, kLinks});
}
// Another host recovers: the intents were written through one mount and are
// finished or undone through another, which shows other st_dev numbers.
TEST(CrashTest, SameFsLinkPowerLossTakeover) {
  Scenario sc{"same-fs link power loss, takeover", false, kStab, kQuar, PL::kDropUnsynced, kLinks};
  sc.takeover = true;
  Enumerate(sc);
}
// Two instances share the warehouse and the manifest root: the second
// runs a whole pass over an overlapping workload between the first's crash
// and its recovery, and the invariants count over the whole warehouse.
TEST(CrashTest, TwoWritersSameFsTornPowerLoss) {
  Scenario sc{"two writers, same-fs torn power loss", false, kStab, kQuar, PL::kTornWrites};
  sc.peer = true;
  Enumerate(sc);
}
TEST(CrashTest, TwoWritersSameFsLinkKill) {
  Scenario sc{"two writers, same-fs link kill", false, kStab, kQuar, std::nullopt, kLinks};
  sc.peer = true;
  Enumerate(sc);
}
// Two shards of one staging directory: shard 0's pass crashes, and the
// rest, shard 1's pass and then shard 0's recovery, run on another host.
TEST(CrashTest, TwoShardsSameFsLinkPowerLossTakeover) {
  Scenario sc{"two shards, same-fs link power loss, takeover",
              false,
              kStab,
              kQuar,
              PL::kDropUnsynced,
              kLinks};
  sc.peer = true;
  sc.shards = true;
  sc.takeover = true;
  Enumerate(sc);
}

// A host of shard 0 loses its mount mid-pass; the other host takes the
// shard over.
TEST(FailureTest, ShardMountLoss) {
  Scenario sc{"two shards, same-fs link", false, kStab, kQuar, std::nullopt, kLinks};
  sc.peer = true;
  sc.shards = true;
  sc.takeover = true;
  EnumerateFailures(sc, ENOTCONN, /*mount_lost=*/true);
}

TEST(CrashTest, CrossFsKillTakeover) {
  Scenario sc{"cross-fs kill, takeover", true, kStab, kQuar, std::nullopt};
  sc.takeover = true;
  Enumerate(sc);
}
TEST(FailureTest, LinkEveryOperationFails) {
  for (int err : {EIO, ENOSPC, EROFS}) {
    EnumerateFailures({"same-fs link", false, kStab, kQuar, std::nullopt, kLinks}, err);
    EnumerateFailures({"cross-fs link sidecar delete", true, kSide, kDel, std::nullopt, kLinks},
                      err);
  }
}
// Batches finish on a second thread, as with --concurrency 2 (the
// default): the committer starts batch k+1 while the finisher makes batch
// k durable, in each order a policy of the scheduler gives.
using Policy = TurnScheduler::Policy;
// Each workload below in each order: strictly alternating, each thread
// ahead as far as it can get, and seeded random draws.
void EnumerateOrders(Scenario sc) {
  const std::string base = sc.name;
  const std::pair<Policy, const char*> orders[] = {
      {Policy::kAlternate, "alternate"},
      {Policy::kCommitterAhead, "committer ahead"},
      {Policy::kFinisherAhead, "finisher ahead"},
      {Policy::kRandom, "random"},
      {Policy::kRandom, "random"},
      {Policy::kRandom, "random"},
      {Policy::kRandom, "random"},
      {Policy::kRandom, "random"},
  };
  uint64_t seed = 0;
  for (const auto& [policy, label] : orders) {
    sc.pipelined = true;
    sc.policy = policy;
    sc.seed = policy == Policy::kRandom ? ++seed : 0;
    const std::string name = "pipelined " + base + ", " + label +
                             (policy == Policy::kRandom ? " " + std::to_string(seed) : "");
    sc.name = name.c_str();
    Enumerate(sc);
    if (::testing::Test::HasFailure()) return;
  }
}
// The orders are enumerated with the recovery run through; one scenario
// also crashes the recovery at each of its operations. The journal keeps
// its frames, or each batch would wait before step I for the one being
// finished; one scenario empties it before every batch all the same.
Scenario Pipelined(const char* name, bool cross_fs, Mode mode, OnDuplicate dup,
                   std::optional<FaultEnv::PowerLossMode> power_loss, bool crash_recovery = false) {
  Scenario sc{name, cross_fs, mode, dup, power_loss};
  sc.pipelined = true;
  sc.crash_recovery = crash_recovery;
  sc.keep_journal = true;
  return sc;
}
TEST(PipelinedCrashTest, SameFsKill) {
  EnumerateOrders(Pipelined("same-fs kill", false, kStab, kQuar, std::nullopt));
}
TEST(PipelinedCrashTest, SameFsPowerLoss) {
  EnumerateOrders(Pipelined("same-fs power loss", false, kStab, kQuar, PL::kDropUnsynced));
}
TEST(PipelinedCrashTest, SameFsMetadataOnlyPowerLoss) {
  EnumerateOrders(
      Pipelined("same-fs metadata-only power loss", false, kStab, kQuar, PL::kMetadataOnly));
}
TEST(PipelinedCrashTest, SameFsSidecarDeleteTornPowerLoss) {
  EnumerateOrders(
      Pipelined("same-fs sidecar delete torn power loss", false, kSide, kDel, PL::kTornWrites));
}
TEST(PipelinedCrashTest, SameFsPowerLossJournalResets) {
  Scenario sc =
      Pipelined("same-fs power loss, journal emptied", false, kStab, kQuar, PL::kDropUnsynced);
  sc.keep_journal = false;
  EnumerateOrders(sc);
}
TEST(PipelinedCrashTest, CrossFsPowerLoss) {
  EnumerateOrders(Pipelined("cross-fs power loss", true, kStab, kQuar, PL::kDropUnsynced));
}
TEST(PipelinedCrashTest, SameFsLinkKill) {
  Scenario sc = Pipelined("same-fs link kill", false, kStab, kQuar, std::nullopt);
  sc.link_moves = true;
  EnumerateOrders(sc);
}
TEST(PipelinedCrashTest, SameFsPowerLossAlternateRecoveryCrashed) {
  Scenario sc = Pipelined("pipelined same-fs power loss, alternate, recovery crashed", false, kStab,
                          kQuar, PL::kDropUnsynced, /*crash_recovery=*/true);
  Enumerate(sc);
}

TEST(CrashTest, CrossFsKill) { Enumerate({"cross-fs kill", true, kStab, kQuar, std::nullopt}); }
TEST(CrashTest, CrossFsPowerLoss) {
  Enumerate({"cross-fs power loss", true, kStab, kQuar, PL::kDropUnsynced});
}
TEST(CrashTest, CrossFsMetadataOnlyPowerLoss) {
  Enumerate({"cross-fs metadata-only power loss", true, kStab, kQuar, PL::kMetadataOnly});
}
TEST(CrashTest, CrossFsSidecarDeleteTornPowerLoss) {
  Enumerate({"cross-fs sidecar delete torn power loss", true, kSide, kDel, PL::kTornWrites});
}

}  // namespace
}  // namespace ingest
