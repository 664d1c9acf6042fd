#include "stability.h"

#include <gtest/gtest.h>

#include <string>

#include "clock.h"

namespace ingest {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
// 2024-01-01T00:00:00Z
constexpr int64_t kNow = 1704067200 * kSec;
constexpr int64_t kWindow = 30 * kSec;

FileStat Stat(int64_t mtime_ns, int64_t ctime_ns) {
  FileStat st;
  st.dev = 10;
  st.ino = 20;
  st.size = 300;
  st.mtime_ns = mtime_ns;
  st.ctime_ns = ctime_ns;
  return st;
}

Snapshot SnapshotOf(const FileStat& st, int64_t first_seen_ns) {
  return Snapshot{st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns, first_seen_ns, ""};
}

StabilityInput Input(const FileStat& st, const Snapshot* previous, bool network_fs = false) {
  StabilityInput in;
  in.st = st;
  in.previous = previous;
  in.now_ns = kNow;
  in.window_ns = kWindow;
  in.network_fs = network_fs;
  return in;
}

TEST(StabilityTest, FreshFileWithoutSnapshotWaitsAndIsRecorded) {
  const FileStat st = Stat(kNow - 1 * kSec, kNow - 1 * kSec);
  StabilityVerdict v = DecideStability(Input(st, nullptr));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, 29 * kSec);
  EXPECT_STREQ(v.evidence, "");
  EXPECT_TRUE(v.store_snapshot);
  EXPECT_EQ(v.snapshot.dev, st.dev);
  EXPECT_EQ(v.snapshot.ino, st.ino);
  EXPECT_EQ(v.snapshot.size, st.size);
  EXPECT_EQ(v.snapshot.mtime_ns, st.mtime_ns);
  EXPECT_EQ(v.snapshot.ctime_ns, st.ctime_ns);
  EXPECT_EQ(v.snapshot.first_seen_ns, kNow);
}

TEST(StabilityTest, SameTupleObservedAWindowAgoIsComplete) {
  // Timestamps are fresh (they would say "wait"), but an earlier pass saw
  // this exact tuple a full window ago.
  const FileStat st = Stat(kNow, kNow);
  const Snapshot prev = SnapshotOf(st, kNow - kWindow);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "observed");
  EXPECT_EQ(v.wait_ns, 0);
  EXPECT_FALSE(v.store_snapshot);
  EXPECT_EQ(v.snapshot.first_seen_ns, kNow - kWindow);
}

TEST(StabilityTest, SameTupleObservedLessThanAWindowAgoWaitsForTheRest) {
  const FileStat st = Stat(kNow, kNow);
  const Snapshot prev = SnapshotOf(st, kNow - 10 * kSec);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, 20 * kSec);
  EXPECT_FALSE(v.store_snapshot);
  EXPECT_EQ(v.snapshot.first_seen_ns, kNow - 10 * kSec);
}

TEST(StabilityTest, OldTimestampsOnLocalFsAreCompleteInOnePass) {
  const FileStat st = Stat(kNow - 3600 * kSec, kNow - 3600 * kSec);
  StabilityVerdict v = DecideStability(Input(st, nullptr));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "timestamps");
  // The snapshot is still new and gets stored.
  EXPECT_TRUE(v.store_snapshot);
  EXPECT_EQ(v.snapshot.first_seen_ns, kNow);
}

TEST(StabilityTest, TimestampsExactlyAWindowOldAreComplete) {
  const FileStat st = Stat(kNow - kWindow, kNow - kWindow);
  StabilityVerdict v = DecideStability(Input(st, nullptr));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "timestamps");
}

TEST(StabilityTest, TimestampsOneNanosecondShortOfAWindowWait) {
  const FileStat st = Stat(kNow - kWindow + 1, kNow - kWindow + 1);
  StabilityVerdict v = DecideStability(Input(st, nullptr));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, 1);
}

TEST(StabilityTest, RecentCtimeOutweighsAnOldMtime) {
  // `touch -d` can backdate mtime, but a rename or write refreshes ctime.
  const FileStat st = Stat(kNow - 3600 * kSec, kNow - 5 * kSec);
  StabilityVerdict v = DecideStability(Input(st, nullptr));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, 25 * kSec);
}

TEST(StabilityTest, NetworkFsIgnoresTimestamps) {
  const FileStat st = Stat(kNow - 3600 * kSec, kNow - 3600 * kSec);
  StabilityVerdict v = DecideStability(Input(st, nullptr, /*network_fs=*/true));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, kWindow);
  EXPECT_TRUE(v.store_snapshot);
}

TEST(StabilityTest, NetworkFsIsCompleteOnObservation) {
  const FileStat st = Stat(kNow - 3600 * kSec, kNow - 3600 * kSec);
  const Snapshot prev = SnapshotOf(st, kNow - kWindow);
  StabilityVerdict v = DecideStability(Input(st, &prev, /*network_fs=*/true));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "observed");
}

TEST(StabilityTest, FutureTimestampsAreIgnored) {
  // mtime far in the future must not count as "old"; ctime in the future
  // makes the pair untrustworthy even with an old mtime.
  for (const FileStat& st :
       {Stat(kNow + 3600 * kSec, kNow + 3600 * kSec), Stat(kNow - 3600 * kSec, kNow + 1)}) {
    StabilityVerdict v = DecideStability(Input(st, nullptr));
    EXPECT_FALSE(v.complete);
    EXPECT_EQ(v.wait_ns, kWindow);
  }
}

TEST(StabilityTest, FutureTimestampsStillCompleteByObservation) {
  const FileStat st = Stat(kNow + 3600 * kSec, kNow + 3600 * kSec);
  const Snapshot prev = SnapshotOf(st, kNow - kWindow);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "observed");
}

TEST(StabilityTest, ObservationBeatsTimestampsWhenOlder) {
  const FileStat st = Stat(kNow - 40 * kSec, kNow - 40 * kSec);
  const Snapshot prev = SnapshotOf(st, kNow - 100 * kSec);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_TRUE(v.complete);
  EXPECT_STREQ(v.evidence, "observed");
}

TEST(StabilityTest, ChangedTupleResetsFirstSeen) {
  const FileStat st = Stat(kNow, kNow);
  const Snapshot base = SnapshotOf(st, kNow - 3600 * kSec);
  Snapshot changed[4] = {base, base, base, base};
  changed[0].ino += 1;
  changed[1].size += 1;
  changed[2].mtime_ns -= 1;
  changed[3].ctime_ns -= 1;
  for (const Snapshot& prev : changed) {
    StabilityVerdict v = DecideStability(Input(st, &prev));
    EXPECT_FALSE(v.complete);
    EXPECT_EQ(v.wait_ns, kWindow);
    EXPECT_TRUE(v.store_snapshot);
    EXPECT_EQ(v.snapshot.first_seen_ns, kNow);
    EXPECT_EQ(v.snapshot.size, st.size);
    EXPECT_EQ(v.snapshot.ino, st.ino);
    EXPECT_EQ(v.snapshot.mtime_ns, st.mtime_ns);
  }
}

// st_dev differs per mount and per client: the same file seen through
// another mount, or after a remount, keeps its evidence.
TEST(StabilityTest, AnotherDeviceNumberKeepsTheEvidence) {
  const FileStat st = Stat(kNow, kNow);
  Snapshot prev = SnapshotOf(st, kNow - kWindow);
  prev.dev += 1;
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_TRUE(v.complete);
  EXPECT_FALSE(v.store_snapshot);
}

TEST(StabilityTest, WindowZeroIsCompleteAtOnce) {
  StabilityInput in = Input(Stat(kNow, kNow), nullptr);
  in.window_ns = 0;
  StabilityVerdict v = DecideStability(in);
  EXPECT_TRUE(v.complete);
  EXPECT_EQ(v.wait_ns, 0);
  EXPECT_STREQ(v.evidence, "observed");
  EXPECT_TRUE(v.store_snapshot);
}

TEST(StabilityTest, WindowZeroWithFutureTimestampsIsComplete) {
  StabilityInput in = Input(Stat(kNow + kSec, kNow + kSec), nullptr, /*network_fs=*/false);
  in.window_ns = 0;
  EXPECT_TRUE(DecideStability(in).complete);
}

TEST(StabilityTest, SnapshotFromTheFutureIsRestartedNow) {
  // The clock went backwards: the recorded first sighting is later than
  // now. It is no evidence, and waiting for it would stall for as long as
  // the clock jumped.
  const FileStat st = Stat(kNow, kNow);
  const Snapshot prev = SnapshotOf(st, kNow + 3600 * kSec);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, kWindow);
  EXPECT_TRUE(v.store_snapshot);
  EXPECT_EQ(v.snapshot.first_seen_ns, kNow);
}

TEST(StabilityTest, SnapshotFirstSeenExactlyNowIsKept) {
  const FileStat st = Stat(kNow, kNow);
  const Snapshot prev = SnapshotOf(st, kNow);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_FALSE(v.complete);
  EXPECT_FALSE(v.store_snapshot);
  EXPECT_EQ(v.wait_ns, kWindow);
}

TEST(StabilityTest, WaitIsTheShorterOfBothEvidences) {
  // Observed 5 s ago, timestamps 12 s old: 18 s to go.
  const FileStat st = Stat(kNow - 12 * kSec, kNow - 12 * kSec);
  const Snapshot prev = SnapshotOf(st, kNow - 5 * kSec);
  StabilityVerdict v = DecideStability(Input(st, &prev));
  EXPECT_FALSE(v.complete);
  EXPECT_EQ(v.wait_ns, 18 * kSec);
  // On a network filesystem only the observation counts: 25 s.
  v = DecideStability(Input(st, &prev, /*network_fs=*/true));
  EXPECT_EQ(v.wait_ns, 25 * kSec);
}

TEST(StabilityTest, WaitNeverExceedsTheWindow) {
  for (int64_t offset : {-kWindow, -1 * kSec, int64_t{0}, 1 * kSec, 1000 * kSec}) {
    const FileStat st = Stat(kNow + offset, kNow + offset);
    StabilityVerdict v = DecideStability(Input(st, nullptr));
    if (!v.complete) {
      EXPECT_GT(v.wait_ns, 0) << offset;
      EXPECT_LE(v.wait_ns, kWindow) << offset;
    }
  }
}

}  // namespace
}  // namespace ingest
