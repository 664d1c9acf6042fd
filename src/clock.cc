#include "clock.h"

#include <time.h>

#include <cstdio>

namespace ingest {

namespace {

template <clockid_t kId>
class PosixClock final : public Clock {
 public:
  int64_t NowNs() override {
    struct timespec ts;
    clock_gettime(kId, &ts);
    return int64_t{ts.tv_sec} * kNanosPerSecond + ts.tv_nsec;
  }
};

}  // namespace

Clock* Clock::Real() {
  static PosixClock<CLOCK_REALTIME> clock;
  return &clock;
}

Clock* Clock::Monotonic() {
  static PosixClock<CLOCK_MONOTONIC> clock;
  return &clock;
}

UtcTime::UtcTime(int64_t ns) {
  int64_t secs = ns / kNanosPerSecond;
  int64_t rem = ns % kNanosPerSecond;
  if (rem < 0) {
    rem += kNanosPerSecond;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  year = tm.tm_year + 1900;
  month = tm.tm_mon + 1;
  day = tm.tm_mday;
  hour = tm.tm_hour;
  minute = tm.tm_min;
  second = tm.tm_sec;
  micros = static_cast<int>(rem / 1000);
}

std::string UtcTime::Date() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, month, day);
  return buf;
}

std::string UtcTime::HourPath() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d/%02d/%02d/%02d", year, month, day, hour);
  return buf;
}

std::string UtcTime::Rfc3339() const {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, month, day, hour,
                minute, second, micros);
  return buf;
}

}  // namespace ingest
