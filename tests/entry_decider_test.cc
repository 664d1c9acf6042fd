#include "entry_decider.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "clock.h"
#include "env_wrapper.h"
#include "mem_state_store.h"
#include "records.h"
#include "snapshot_table.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSec = kNanosPerSecond;

// The real filesystem, except that stat of `failing_name` fails with EIO
// and the filesystem can claim to be a network one.
class TestEnv final : public EnvWrapper {
 public:
  TestEnv() : EnvWrapper(Env::Default()) {}

  std::string failing_name;
  bool network = false;
  // Names whose ctime reads as given.
  std::map<std::string, int64_t> ctime_ns;

  Status StatAt(const File& dir, const std::string& name, FileStat* st) override {
    if (name == failing_name) return Status::FromErrno("cannot stat " + dir.Child(name), EIO);
    Status s = EnvWrapper::StatAt(dir, name, st);
    if (auto it = ctime_ns.find(name); s.ok() && it != ctime_ns.end()) st->ctime_ns = it->second;
    return s;
  }
  Status IsNetworkFs(const File&, bool* network) override {
    *network = this->network;
    return Status::OK();
  }
};

class EntryDeciderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    options_.input = root_.string();
    options_.stability_seconds = 30;
    ASSERT_TRUE(env_.OpenDir(options_.input, &input_).ok());
    ASSERT_TRUE(env_.Stat(input_, &input_st_).ok());
  }

  // Writes a file and returns its stat.
  FileStat Write(const std::string& name, const std::string& content = "x\n") {
    WriteFile(root_ / name, content);
    FileStat st;
    EXPECT_TRUE(env_.StatAt(input_, name, &st).ok());
    return st;
  }

  // Decides about `name` as listed at `pos` with d_type `type`, with the
  // clock at `now_ns`, against snapshots in `table` (a writable one of the
  // test's state when null).
  EntryDecision Decide(const std::string& name, uint8_t type, int64_t now_ns,
                       SnapshotTable* table = nullptr,
                       const std::set<uint64_t>* unresolved = nullptr) {
    ManualClock clock(now_ns);
    EntryDecider decider(&env_, options_, &clock, input_, input_st_, unresolved);
    EXPECT_TRUE(decider.Init().ok());
    SnapshotTable own(&state_, input_st_.ino, /*writable=*/true);
    if (table == nullptr) table = &own;
    table->Begin(0);
    DirEntry e;
    e.name = name;
    e.type = type;
    e.pos = kPos;
    EntryDecision d;
    Status s = decider.Decide(input_, "", e, table, &d);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(table->Flush().ok());
    return d;
  }

  std::optional<Snapshot> StoredSnapshot(const std::string& name) {
    std::string value;
    if (!state_.Get(keys::Snapshot(input_st_.ino, kPos, name), &value).ok()) {
      return std::nullopt;
    }
    Snapshot s;
    EXPECT_TRUE(DecodeSnapshot(value, &s));
    return s;
  }

  void PutSnapshot(const std::string& name, const Snapshot& s) {
    ASSERT_TRUE(
        state_.Apply({{keys::Snapshot(input_st_.ino, kPos, name), EncodeSnapshot(s)}}, false).ok());
  }

  static int64_t Newest(const FileStat& st) { return std::max(st.mtime_ns, st.ctime_ns); }

  static constexpr int64_t kPos = 42;
  TempRoot tmp_{"entry_decider_test"};
  fs::path root_;
  TestEnv env_;
  Options options_;
  File input_;
  FileStat input_st_;
  MemStateStore state_;
};

TEST_F(EntryDeciderTest, NameFiltersSkipWithoutLookingAtTheFile) {
  const struct {
    const char* name;
    NameFilter filter;
  } cases[] = {{".hidden", NameFilter::kHidden},
               {"a.csv.tmp", NameFilter::kTempSuffix},
               {"a.csv.part", NameFilter::kTempSuffix},
               {"a.swp", NameFilter::kTempSuffix},
               {"a.csv.ok", NameFilter::kSidecar}};
  for (const auto& c : cases) {
    // Not even created: a filtered name is never stat'ed.
    EntryDecision d = Decide(c.name, DT_REG, 0);
    EXPECT_EQ(d.verdict, EntryVerdict::kSkip) << c.name;
    EXPECT_EQ(d.filter, c.filter) << c.name;
    EXPECT_STREQ(d.reason, NameFilterText(c.filter)) << c.name;
    EXPECT_FALSE(d.examined) << c.name;
  }
}

// With --shard 0/2: "data.csv" is shard 1's, "b.csv" shard 0's (shard_test.cc).
TEST_F(EntryDeciderTest, AnotherShardsFileIsDecidedByNameWithoutAStat) {
  options_.shard = Shard{0, 2};
  Write("data.csv");
  Write("b.csv");
  env_.failing_name = "data.csv";  // a stat of it would fail the decision
  for (const char* name : {"data.csv", "data.csv.ok", "data.csv.tmp", "data.csv.part"}) {
    EntryDecision d = Decide(name, DT_REG, 0);
    EXPECT_EQ(d.verdict, EntryVerdict::kOtherShard) << name;
    EXPECT_EQ(d.owner, (Shard{1, 2})) << name;
    EXPECT_FALSE(d.examined) << name;
  }
  EXPECT_EQ(Decide("b.csv.ok", DT_REG, 0).verdict, EntryVerdict::kSkip);
  EXPECT_EQ(Decide("b.csv", DT_REG, 0).verdict, EntryVerdict::kWaitStable);

  ManualClock clock(0);
  EntryDecider decider(&env_, options_, &clock, input_, input_st_, nullptr);
  DirEntry e;
  e.type = DT_REG;
  e.name = "data.csv";
  EXPECT_FALSE(decider.NeedsStat("", e));
  e.name = "b.csv";
  EXPECT_TRUE(decider.NeedsStat("", e));
  // The name below --input decides: "sub/file.csv" is shard 0's.
  e.name = "file.csv";
  EXPECT_TRUE(decider.NeedsStat("sub", e));
  EXPECT_EQ(decider.ShardOfEntry("sub", "file.csv.ok"), 0u);
}

TEST_F(EntryDeciderTest, EveryShardWalksEveryDirectory) {
  options_.recursive = true;
  fs::create_directory(root_ / "data.csv");  // a name of shard 1
  for (uint32_t k : {0u, 1u}) {
    options_.shard = Shard{k, 2};
    for (uint8_t type : {uint8_t{DT_DIR}, uint8_t{DT_UNKNOWN}}) {
      EXPECT_EQ(Decide("data.csv", type, 0).verdict, EntryVerdict::kDescend) << k;
    }
  }
  // A file whose type the listing does not give is stat'ed first, then
  // shared out.
  fs::remove(root_ / "data.csv");
  Write("data.csv");
  options_.shard = Shard{0, 2};
  EntryDecision d = Decide("data.csv", DT_UNKNOWN, 0);
  EXPECT_EQ(d.verdict, EntryVerdict::kOtherShard);
  EXPECT_FALSE(d.examined);
}

TEST_F(EntryDeciderTest, DirectoryIsSkippedUnlessRecursive) {
  fs::create_directory(root_ / "sub");
  for (uint8_t type : {uint8_t{DT_DIR}, uint8_t{DT_UNKNOWN}}) {
    options_.recursive = false;
    EntryDecision d = Decide("sub", type, 0);
    EXPECT_EQ(d.verdict, EntryVerdict::kSkip);
    EXPECT_STREQ(d.reason, "not a regular file");
    options_.recursive = true;
    EXPECT_EQ(Decide("sub", type, 0).verdict, EntryVerdict::kDescend);
  }
}

TEST_F(EntryDeciderTest, SymlinkAndFifoAreSkipped) {
  Write("target.csv");
  fs::create_symlink("target.csv", root_ / "link.csv");
  ASSERT_EQ(::mkfifo((root_ / "fifo.csv").c_str(), 0600), 0);
  EXPECT_EQ(Decide("link.csv", DT_LNK, 0).verdict, EntryVerdict::kSkip);
  EXPECT_EQ(Decide("fifo.csv", DT_FIFO, 0).verdict, EntryVerdict::kSkip);
  // Filesystems without d_type: the stat decides, never following the link.
  EntryDecision d = Decide("link.csv", DT_UNKNOWN, 0);
  EXPECT_EQ(d.verdict, EntryVerdict::kSkip);
  EXPECT_TRUE(d.examined);
  EXPECT_EQ(Decide("fifo.csv", DT_UNKNOWN, 0).verdict, EntryVerdict::kSkip);
}

TEST_F(EntryDeciderTest, VanishedEntryIsGone) {
  EXPECT_EQ(Decide("never-there.csv", DT_REG, 0).verdict, EntryVerdict::kGone);
}

TEST_F(EntryDeciderTest, StatErrorIsAFailureWithItsError) {
  Write("bad.csv");
  env_.failing_name = "bad.csv";
  EntryDecision d = Decide("bad.csv", DT_REG, 0);
  EXPECT_EQ(d.verdict, EntryVerdict::kFailed);
  EXPECT_NE(d.error.ToString().find("bad.csv"), std::string::npos) << d.error.ToString();
  EXPECT_FALSE(d.examined);
  EXPECT_FALSE(StoredSnapshot("bad.csv"));
}

TEST_F(EntryDeciderTest, OpenCommitLeavesTheFileAlone) {
  const FileStat st = Write("a.csv");
  const std::set<uint64_t> unresolved{st.ino};
  EntryDecision d = Decide("a.csv", DT_REG, Newest(st) + 3600 * kSec, nullptr, &unresolved);
  EXPECT_EQ(d.verdict, EntryVerdict::kUnresolved);
}

TEST_F(EntryDeciderTest, FileBelowMinSizeIsSkippedAndLeavesNoSnapshot) {
  const FileStat empty = Write("empty.log", "");
  const FileStat small = Write("small.log", "ab");
  const FileStat big = Write("big.log", "abc");
  const int64_t now = Newest(big) + 3600 * kSec;
  // The default takes every file, empty ones too.
  EXPECT_EQ(Decide("empty.log", DT_REG, now).verdict, EntryVerdict::kReady);
  options_.min_size = 3;
  for (const char* name : {"empty.log", "small.log"}) {
    EntryDecision d = Decide(name, DT_REG, Newest(empty) + 10 * kSec);
    EXPECT_EQ(d.verdict, EntryVerdict::kSkip) << name;
    EXPECT_TRUE(d.too_small) << name;
    EXPECT_STREQ(d.reason, "smaller than --min-size") << name;
    EXPECT_TRUE(d.examined) << name;
    // Not yet stable either, but no window starts for it.
    EXPECT_FALSE(StoredSnapshot(name)) << name;
  }
  EXPECT_EQ(small.size, 2u);
  EntryDecision d = Decide("big.log", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kReady);
  EXPECT_FALSE(d.too_small);
}

TEST_F(EntryDeciderTest, FreshFileWaitsAndItsFirstSightingIsRecorded) {
  const FileStat st = Write("a.csv");
  const int64_t now = Newest(st) + 10 * kSec;
  EntryDecision d = Decide("a.csv", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kWaitStable);
  EXPECT_STREQ(d.reason, "not yet stable");
  EXPECT_EQ(d.stability.wait_ns, 20 * kSec);
  EXPECT_FALSE(d.previous);
  std::optional<Snapshot> stored = StoredSnapshot("a.csv");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->first_seen_ns, now);
  EXPECT_EQ(stored->ino, st.ino);
}

TEST_F(EntryDeciderTest, ReadOnlyTableRecordsNothing) {
  const FileStat st = Write("a.csv");
  SnapshotTable read_only(&state_, input_st_.ino, /*writable=*/false);
  EntryDecision d = Decide("a.csv", DT_REG, Newest(st) + kSec, &read_only);
  EXPECT_EQ(d.verdict, EntryVerdict::kWaitStable);
  EXPECT_FALSE(StoredSnapshot("a.csv"));
}

TEST_F(EntryDeciderTest, OldTimestampsAreReady) {
  const FileStat st = Write("a.csv");
  EntryDecision d = Decide("a.csv", DT_REG, Newest(st) + 31 * kSec);
  EXPECT_EQ(d.verdict, EntryVerdict::kReady);
  EXPECT_STREQ(d.stability.evidence, "timestamps");
  EXPECT_EQ(d.st.ino, st.ino);
  EXPECT_FALSE(d.has_sidecar);
}

TEST_F(EntryDeciderTest, OnANetworkFilesystemOnlyASightingCounts) {
  env_.network = true;
  const FileStat st = Write("a.csv");
  const int64_t now = Newest(st) + 3600 * kSec;
  EntryDecision d = Decide("a.csv", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kWaitStable);
  EXPECT_EQ(d.stability.wait_ns, 30 * kSec);
  // A pass that sees the same tuple a window later takes it.
  d = Decide("a.csv", DT_REG, now + 30 * kSec);
  EXPECT_EQ(d.verdict, EntryVerdict::kReady);
  EXPECT_STREQ(d.stability.evidence, "observed");
  ASSERT_TRUE(d.previous);
  EXPECT_EQ(d.previous->first_seen_ns, now);
}

TEST_F(EntryDeciderTest, KeptDuplicateIsSkippedWhileUnchanged) {
  const FileStat st = Write("dup.csv");
  PutSnapshot("dup.csv",
              Snapshot{st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns, 1, std::string(64, 'a')});
  EntryDecision d = Decide("dup.csv", DT_REG, Newest(st) + 3600 * kSec);
  EXPECT_EQ(d.verdict, EntryVerdict::kSkip);
  EXPECT_STREQ(d.reason, "kept duplicate");
  ASSERT_TRUE(d.previous);
  EXPECT_EQ(d.previous->kept_sha256, std::string(64, 'a'));
  // Written to: no longer the kept content, so it is judged afresh.
  Write("dup.csv", "new content\n");
  d = Decide("dup.csv", DT_REG, Newest(st) + 3600 * kSec);
  EXPECT_NE(d.verdict, EntryVerdict::kSkip);
}

TEST_F(EntryDeciderTest, SidecarModeWaitsForARegularOkFile) {
  options_.mode = Mode::kSidecar;
  const FileStat st = Write("a.csv");
  const int64_t now = Newest(st);  // timing plays no part
  EntryDecision d = Decide("a.csv", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kWaitSidecar);
  EXPECT_STREQ(d.reason, "waiting for .ok");
  fs::create_directory(root_ / "a.csv.ok");
  EXPECT_EQ(Decide("a.csv", DT_REG, now).verdict, EntryVerdict::kWaitSidecar);
  fs::remove(root_ / "a.csv.ok");
  Write("a.csv.ok", "");
  d = Decide("a.csv", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kReady);
  EXPECT_TRUE(d.has_sidecar);
  EXPECT_FALSE(StoredSnapshot("a.csv"));
}

// Ages `name`'s mtime to `mtime_ns`.
void SetMtime(const fs::path& path, int64_t mtime_ns) {
  struct timespec times[2] = {{0, UTIME_OMIT}, {mtime_ns / kSec, mtime_ns % kSec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

TEST_F(EntryDeciderTest, SidecarModeWaitsForAFileChangedAfterItsOk) {
  options_.mode = Mode::kSidecar;
  Write("a.csv");
  const FileStat ok = Write("a.csv.ok", "");
  const int64_t now = Newest(ok);

  // Written to after the .ok appeared.
  SetMtime(root_ / "a.csv", ok.ctime_ns + kSec);
  EntryDecision d = Decide("a.csv", DT_REG, now);
  EXPECT_EQ(d.verdict, EntryVerdict::kWaitSidecar);
  EXPECT_STREQ(d.reason, "changed after its .ok appeared; waiting for a newer .ok");

  // Renamed into place after the .ok appeared.
  SetMtime(root_ / "a.csv", ok.ctime_ns - kSec);
  env_.ctime_ns["a.csv"] = ok.ctime_ns + 1;
  EXPECT_EQ(Decide("a.csv", DT_REG, now).verdict, EntryVerdict::kWaitSidecar);

  // Same times: timestamps are coarser than one write.
  env_.ctime_ns["a.csv"] = ok.ctime_ns;
  SetMtime(root_ / "a.csv", ok.ctime_ns);
  EXPECT_EQ(Decide("a.csv", DT_REG, now).verdict, EntryVerdict::kReady);
}

TEST_F(EntryDeciderTest, SidecarWithTheSendersOldMtimeCounts) {
  // rsync -t gives the .ok the sender's mtime; what counts is when it
  // appeared here.
  options_.mode = Mode::kSidecar;
  const FileStat st = Write("a.csv");
  Write("a.csv.ok", "");
  SetMtime(root_ / "a.csv", st.mtime_ns - 7200 * kSec);
  SetMtime(root_ / "a.csv.ok", st.mtime_ns - 3600 * kSec);
  env_.ctime_ns["a.csv"] = st.ctime_ns;
  EntryDecision d = Decide("a.csv", DT_REG, Newest(st));
  EXPECT_EQ(d.verdict, EntryVerdict::kReady);
}

TEST_F(EntryDeciderTest, SubdirectoryOnTheInputMountIsEntered) {
  fs::create_directory(root_ / "sub");
  ManualClock clock(0);
  EntryDecider decider(&env_, options_, &clock, input_, input_st_, nullptr);
  ASSERT_TRUE(decider.Init().ok());
  StagingDir sub;
  ASSERT_TRUE(env_.OpenDirAt(input_, "sub", &sub.file).ok());
  ASSERT_TRUE(env_.Stat(sub.file, &sub.st).ok());
  EXPECT_TRUE(decider.OnInputMount(sub));
  sub.st.dev ^= 1;  // as if on another filesystem
  EXPECT_FALSE(decider.OnInputMount(sub));
}

}  // namespace
}  // namespace ingest
