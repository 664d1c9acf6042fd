#include "watch_schedule.h"

#include <gtest/gtest.h>

namespace ingest {
namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1000 * kSec;  // an arbitrary monotonic start

WatchTiming Timing() {
  WatchTiming t;
  t.debounce_ns = 150 * kMs;
  t.max_delay_ns = 1 * kSec;
  t.interval_ns = 300 * kSec;
  t.min_gap_ns = 150 * kMs;
  t.retry_ns = 10 * kSec;
  t.ready_slack_ns = 20 * kMs;
  return t;
}

// Runs the first pass (due at once) from kT0 to `end`.
WatchSchedule AfterFirstPass(int64_t end, const PassFinish& finish = {}) {
  WatchSchedule s(Timing(), kT0);
  EXPECT_TRUE(s.Due(kT0));
  s.OnPassStarted(kT0);
  s.OnPassFinished(end, finish);
  return s;
}

TEST(WatchScheduleTest, FirstPassIsDueAtOnce) {
  WatchSchedule s(Timing(), kT0);
  EXPECT_EQ(kT0, s.NextPassAt());
  EXPECT_EQ(0, s.TimeoutMs(kT0));
}

TEST(WatchScheduleTest, IdleWaitsForTheInterval) {
  WatchSchedule s = AfterFirstPass(kT0 + kSec);
  EXPECT_EQ(kT0 + kSec + 300 * kSec, s.NextPassAt());
  EXPECT_FALSE(s.Due(kT0 + 200 * kSec));
  EXPECT_EQ(300'000, s.TimeoutMs(kT0 + kSec));
}

TEST(WatchScheduleTest, ABurstOfChangesBecomesOnePassAfterTheQuietTime) {
  WatchSchedule s = AfterFirstPass(kT0 + kSec);
  const int64_t t = kT0 + 5 * kSec;
  s.OnChange(t);
  s.OnChange(t + 50 * kMs);
  s.OnChange(t + 100 * kMs);
  EXPECT_EQ(t + 250 * kMs, s.NextPassAt());
  EXPECT_FALSE(s.Due(t + 249 * kMs));
  EXPECT_TRUE(s.Due(t + 250 * kMs));
  s.OnPassStarted(t + 250 * kMs);
  s.OnPassFinished(t + 300 * kMs, {});
  // Nothing new: back to the interval.
  EXPECT_EQ(t + 300 * kMs + 300 * kSec, s.NextPassAt());
}

TEST(WatchScheduleTest, ChangesThatNeverPauseWaitAtMostTheMaxDelay) {
  WatchSchedule s = AfterFirstPass(kT0 + kSec);
  const int64_t t = kT0 + 5 * kSec;
  for (int64_t at = t; at < t + 3 * kSec; at += 100 * kMs) {
    if (s.Due(at)) break;
    s.OnChange(at);
  }
  EXPECT_EQ(t + kSec, s.NextPassAt());
}

TEST(WatchScheduleTest, AChangeDuringAPassGetsAPassAfterIt) {
  WatchSchedule s(Timing(), kT0);
  s.OnPassStarted(kT0);
  s.OnChange(kT0 + 10 * kMs);
  s.OnPassFinished(kT0 + 2 * kSec, {});
  // The quiet time is long over; the gap after the pass still applies.
  EXPECT_EQ(kT0 + 2 * kSec + 150 * kMs, s.NextPassAt());
}

TEST(WatchScheduleTest, ADeferredFileGetsAPassJustAfterItsWindow) {
  PassFinish f;
  f.ready_in_ns = 700 * kMs;
  WatchSchedule s = AfterFirstPass(kT0 + 100 * kMs, f);
  EXPECT_EQ(kT0 + 100 * kMs + 720 * kMs, s.NextPassAt());
  // The deadline is used once: the next pass reports its own.
  s.OnPassStarted(s.NextPassAt());
  s.OnPassFinished(kT0 + 900 * kMs, {});
  EXPECT_EQ(kT0 + 900 * kMs + 300 * kSec, s.NextPassAt());
}

TEST(WatchScheduleTest, AnOverdueDeadlineStillKeepsTheGapBetweenPasses) {
  PassFinish f;
  f.ready_in_ns = 0;
  WatchSchedule s = AfterFirstPass(kT0 + kSec, f);
  EXPECT_EQ(kT0 + kSec + 150 * kMs, s.NextPassAt());
}

TEST(WatchScheduleTest, ACutShortPassIsResumedAtOnce) {
  PassFinish f;
  f.cut_short = true;
  WatchSchedule s = AfterFirstPass(kT0 + kSec, f);
  EXPECT_EQ(kT0 + kSec + 150 * kMs, s.NextPassAt());
}

TEST(WatchScheduleTest, OverflowMeansAPassAsSoonAsAllowed) {
  WatchSchedule s = AfterFirstPass(kT0 + kSec);
  s.OnOverflow();
  EXPECT_EQ(kT0 + kSec + 150 * kMs, s.NextPassAt());
  EXPECT_TRUE(s.Due(kT0 + 2 * kSec));
}

TEST(WatchScheduleTest, APassThatStoppedOnAnErrorHoldsOffTheNext) {
  PassFinish f;
  f.stopped_on_error = true;
  WatchSchedule s = AfterFirstPass(kT0 + kSec, f);
  s.OnChange(kT0 + 2 * kSec);
  EXPECT_EQ(kT0 + 11 * kSec, s.NextPassAt());
}

TEST(WatchScheduleTest, TheIntervalBoundsEveryOtherWait) {
  WatchTiming t = Timing();
  t.interval_ns = 2 * kSec;
  WatchSchedule s(t, kT0);
  s.OnPassStarted(kT0);
  PassFinish f;
  f.ready_in_ns = 60 * kSec;
  s.OnPassFinished(kT0, f);
  EXPECT_EQ(kT0 + 2 * kSec, s.NextPassAt());
}

TEST(WatchScheduleTest, TimeoutRoundsUpToWholeMilliseconds) {
  WatchSchedule s = AfterFirstPass(kT0);
  s.OnChange(kT0 + 1);  // due at kT0 + 1 + 150 ms
  EXPECT_EQ(151, s.TimeoutMs(kT0));
  EXPECT_EQ(0, s.TimeoutMs(kT0 + kSec));
}

}  // namespace
}  // namespace ingest
