#include "clock.h"

#include <time.h>

#include <cstdio>
#include <limits>

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

// `n` decimal digits of `text` at `pos`, and nothing else (no sign, no
// blank, which sscanf would take).
bool Digits(std::string_view text, size_t pos, size_t n, int* out) {
  if (pos + n > text.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

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

bool ParseUtcTime(std::string_view text, bool end_of_day, int64_t* ns) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t fraction_ns = 0;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' || !Digits(text, 8, 2, &day)) {
    return false;
  }
  const bool date_only = text.size() == 10;
  if (!date_only) {
    if (text[10] != 'T' || !Digits(text, 11, 2, &hour) || text.size() < 17 || text[13] != ':' ||
        !Digits(text, 14, 2, &minute)) {
      return false;
    }
    size_t pos = 16;
    if (pos < text.size() && text[pos] == ':') {
      if (!Digits(text, pos + 1, 2, &second)) return false;
      pos += 3;
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int64_t scale = kNanosPerSecond;
        const size_t first = pos;
        while (pos < text.size() && pos - first < 9 && text[pos] >= '0' && text[pos] <= '9') {
          scale /= 10;
          fraction_ns += (text[pos++] - '0') * scale;
        }
        if (pos == first) return false;
      }
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t seconds = timegm(&tm);
  // timegm carries a day past the month's end into the next month.
  struct tm back;
  if (gmtime_r(&seconds, &back) == nullptr || back.tm_mon != month - 1 || back.tm_mday != day) {
    return false;
  }
  // Nanoseconds since the epoch hold 1677 to 2262; a bound beyond them
  // (verify --since 2999-01-01) is before or after every time there is.
  constexpr int64_t kDay = 24 * 3600;
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / kNanosPerSecond - kDay;
  if (seconds > kLimit || seconds < -kLimit) {
    *ns = seconds > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    return true;
  }
  *ns = int64_t{seconds} * kNanosPerSecond + fraction_ns;
  if (date_only && end_of_day) *ns += kDay * kNanosPerSecond - 1;
  return true;
}

}  // namespace ingest
