#include "clock.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace ingest {
namespace {

constexpr int64_t kSec = kNanosPerSecond;

TEST(ClockTest, EpochRendersAsMidnight1970) {
  UtcTime t(0);
  EXPECT_EQ(t.Date(), "1970-01-01");
  EXPECT_EQ(t.HourPath(), "1970/01/01/00");
  EXPECT_EQ(t.Rfc3339(), "1970-01-01T00:00:00.000000Z");
}

TEST(ClockTest, KnownInstantRendersAllFields) {
  // 2024-02-29T13:45:07.123456789Z, a leap day.
  UtcTime t(int64_t{1709214307} * kSec + 123456789);
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.month, 2);
  EXPECT_EQ(t.day, 29);
  EXPECT_EQ(t.hour, 13);
  EXPECT_EQ(t.minute, 45);
  EXPECT_EQ(t.second, 7);
  EXPECT_EQ(t.micros, 123456);
  EXPECT_EQ(t.Date(), "2024-02-29");
  EXPECT_EQ(t.HourPath(), "2024/02/29/13");
  // Microseconds are truncated, not rounded.
  EXPECT_EQ(t.Rfc3339(), "2024-02-29T13:45:07.123456Z");
}

TEST(ClockTest, LastNanosecondOfADayStaysOnThatDay) {
  // 2023-12-31T23:59:59.999999999Z
  UtcTime t(int64_t{1704067200} * kSec - 1);
  EXPECT_EQ(t.Date(), "2023-12-31");
  EXPECT_EQ(t.HourPath(), "2023/12/31/23");
  EXPECT_EQ(t.Rfc3339(), "2023-12-31T23:59:59.999999Z");
  UtcTime next(int64_t{1704067200} * kSec);
  EXPECT_EQ(next.Rfc3339(), "2024-01-01T00:00:00.000000Z");
}

TEST(ClockTest, NegativeRemainderBorrowsFromTheSecond) {
  // One nanosecond before the epoch: the division truncates towards zero,
  // so the remainder must borrow a second rather than render 1970.
  UtcTime t(-1);
  EXPECT_EQ(t.Date(), "1969-12-31");
  EXPECT_EQ(t.HourPath(), "1969/12/31/23");
  EXPECT_EQ(t.Rfc3339(), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(t.micros, 999999);
}

TEST(ClockTest, NegativeTimeWithFraction) {
  // -1.5 s is 23:59:58.500000 on 1969-12-31.
  UtcTime t(-kSec - kSec / 2);
  EXPECT_EQ(t.Rfc3339(), "1969-12-31T23:59:58.500000Z");
  // A whole negative second has no remainder to borrow.
  UtcTime whole(-kSec);
  EXPECT_EQ(whole.Rfc3339(), "1969-12-31T23:59:59.000000Z");
}

TEST(ClockTest, ExtremesOfTheNanosecondRange) {
  UtcTime max(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(max.Rfc3339(), "2262-04-11T23:47:16.854775Z");
  EXPECT_EQ(max.HourPath(), "2262/04/11/23");
  // INT64_MIN has a negative remainder: -9223372036 s and -854775808 ns.
  UtcTime min(std::numeric_limits<int64_t>::min());
  EXPECT_EQ(min.Rfc3339(), "1677-09-21T00:12:43.145224Z");
  EXPECT_EQ(min.Date(), "1677-09-21");
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(100);
  EXPECT_EQ(clock.NowNs(), 100);
  EXPECT_EQ(clock.NowNs(), 100);
  clock.Advance(5 * kSec);
  EXPECT_EQ(clock.NowNs(), 100 + 5 * kSec);
  clock.Set(-7);
  EXPECT_EQ(clock.NowNs(), -7);
}

TEST(ClockTest, RealClockIsAfter2020) {
  EXPECT_GT(Clock::Real()->NowNs(), int64_t{1577836800} * kSec);
  EXPECT_EQ(Clock::Real(), Clock::Real());
}

}  // namespace
}  // namespace ingest
