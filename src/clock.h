#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace ingest {

inline constexpr int64_t kNanosPerSecond = 1000000000;

// Wall-clock time in nanoseconds since the Unix epoch. Injectable so tests
// decide what "now" is instead of sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() = 0;

  // CLOCK_REALTIME.
  static Clock* Real();
  // CLOCK_MONOTONIC: for timers, which must not follow clock changes. Not
  // a time since the epoch.
  static Clock* Monotonic();
};

// A clock that only moves when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ns) : now_ns_(now_ns) {}
  int64_t NowNs() override { return now_ns_.load(); }
  void Advance(int64_t ns) { now_ns_ += ns; }
  void Set(int64_t ns) { now_ns_ = ns; }

 private:
  std::atomic<int64_t> now_ns_;
};

// UTC calendar renderings of a time, all from one conversion.
struct UtcTime {
  explicit UtcTime(int64_t ns);
  std::string Date() const;      // "YYYY-MM-DD"
  std::string HourPath() const;  // "YYYY/MM/DD/HH"
  std::string Rfc3339() const;   // "YYYY-MM-DDTHH:MM:SS.mmmmmmZ"

  int year, month, day, hour, minute, second, micros;
};

// Reads a UTC date "YYYY-MM-DD", which stands for its whole day, or a UTC
// time "YYYY-MM-DDTHH:MM[:SS[.fraction]]Z", one instant (RFC 3339 in UTC,
// as the manifests write ingested_at). A date gives its first nanosecond,
// or its last with `end_of_day`, so that a date as an inclusive upper bound
// covers the day. False for anything else, and for a day that does not
// exist (February 30). Times outside what int64 nanoseconds hold (years
// 1677 to 2262) give the int64 limit on their side.
bool ParseUtcTime(std::string_view text, bool end_of_day, int64_t* ns);

}  // namespace ingest
