#include "watch_schedule.h"

#include <algorithm>
#include <climits>

namespace ingest {

WatchSchedule::WatchSchedule(const WatchTiming& timing, int64_t now)
    : timing_(timing), last_end_(now), not_before_(now) {}

void WatchSchedule::OnChange(int64_t now) {
  if (!changed_) first_change_ = now;
  changed_ = true;
  last_change_ = now;
}

void WatchSchedule::OnOverflow() { asap_ = true; }

void WatchSchedule::OnPassStarted(int64_t) {
  asap_ = false;
  changed_ = false;
  has_ready_ = false;
}

void WatchSchedule::OnPassFinished(int64_t now, const PassFinish& finish) {
  last_end_ = now;
  not_before_ = now + (finish.stopped_on_error ? timing_.retry_ns : timing_.min_gap_ns);
  if (finish.cut_short) asap_ = true;
  if (finish.ready_in_ns >= 0) {
    const int64_t at = now + finish.ready_in_ns + timing_.ready_slack_ns;
    if (!has_ready_ || at < ready_at_) ready_at_ = at;
    has_ready_ = true;
  }
}

int64_t WatchSchedule::NextPassAt() const {
  int64_t at = last_end_ + timing_.interval_ns;
  if (asap_) at = std::min(at, not_before_);
  if (changed_) {
    at = std::min(
        at, std::min(last_change_ + timing_.debounce_ns, first_change_ + timing_.max_delay_ns));
  }
  if (has_ready_) at = std::min(at, ready_at_);
  return std::max(at, not_before_);
}

int WatchSchedule::TimeoutMs(int64_t now) const {
  const int64_t wait = NextPassAt() - now;
  if (wait <= 0) return 0;
  const int64_t ms = (wait + 999'999) / 1'000'000;
  return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
}

}  // namespace ingest
