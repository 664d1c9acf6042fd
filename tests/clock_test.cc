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

TEST(ClockTest, ParsesADateAsItsWholeDay) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseUtcTime("2024-02-29", /*end_of_day=*/false, &ns));
  EXPECT_EQ(ns, int64_t{1709164800} * kSec);
  ASSERT_TRUE(ParseUtcTime("2024-02-29", /*end_of_day=*/true, &ns));
  EXPECT_EQ(ns, int64_t{1709251200} * kSec - 1);
  EXPECT_EQ(UtcTime(ns).Date(), "2024-02-29");
}

TEST(ClockTest, ParsesAUtcTimeAsOneInstant) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseUtcTime("2024-02-29T13:45Z", /*end_of_day=*/true, &ns));
  EXPECT_EQ(ns, int64_t{1709214300} * kSec);
  ASSERT_TRUE(ParseUtcTime("2024-02-29T13:45:07Z", /*end_of_day=*/false, &ns));
  EXPECT_EQ(ns, int64_t{1709214307} * kSec);
  // As the manifests write ingested_at: it reads back to the same micros.
  ASSERT_TRUE(ParseUtcTime("2024-02-29T13:45:07.123456Z", /*end_of_day=*/false, &ns));
  EXPECT_EQ(ns, int64_t{1709214307} * kSec + 123456000);
  EXPECT_EQ(UtcTime(ns).Rfc3339(), "2024-02-29T13:45:07.123456Z");
  ASSERT_TRUE(ParseUtcTime("2024-02-29T13:45:07.123456789Z", /*end_of_day=*/false, &ns));
  EXPECT_EQ(ns, int64_t{1709214307} * kSec + 123456789);
}

TEST(ClockTest, ATimeBeyondInt64NanosecondsSaturates) {
  int64_t ns = 0;
  ASSERT_TRUE(ParseUtcTime("2999-01-01", /*end_of_day=*/false, &ns));
  EXPECT_EQ(ns, std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(ParseUtcTime("1000-01-01T00:00Z", /*end_of_day=*/true, &ns));
  EXPECT_EQ(ns, std::numeric_limits<int64_t>::min());
}

TEST(ClockTest, RefusesWhatIsNotADateOrAUtcTime) {
  int64_t ns = 0;
  for (const char* bad :
       {"", "2024-2-29", "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "+024-02-01",
        "2024-02-01 ", "2024-02-01T", "2024-02-01T10Z", "2024-02-01T10:00", "2024-02-01T24:00Z",
        "2024-02-01T10:60Z", "2024-02-01T10:00:60Z", "2024-02-01T10:00+01:00",
        "2024-02-01T10:00:00.Z", "2024-02-01T10:00:00.1234567890Z", "yesterday"}) {
    EXPECT_FALSE(ParseUtcTime(bad, /*end_of_day=*/false, &ns)) << bad;
  }
}

}  // namespace
}  // namespace ingest
