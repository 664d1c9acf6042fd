#pragma once

#include <atomic>
#include <cstdint>
#include <string>

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

}  // namespace ingest
