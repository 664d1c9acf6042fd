#pragma once

#include <cstdint>

namespace ingest {

// How the watch paces its passes. All durations in nanoseconds.
struct WatchTiming {
  // Quiet time after a change before the pass that takes it: a burst of
  // arrivals becomes one pass.
  int64_t debounce_ns = 150'000'000;
  // The longest a change waits while changes keep coming.
  int64_t max_delay_ns = 1'000'000'000;
  // A full pass at least this often, whatever else happens (--interval).
  int64_t interval_ns = 300'000'000'000;
  // Shortest gap between the end of a pass and the start of the next, so
  // that a pass whose own work causes events cannot run back to back.
  int64_t min_gap_ns = 150'000'000;
  // After a pass that stopped on an error: the next one waits this long.
  int64_t retry_ns = 10'000'000'000;
  // Added to a stability deadline, so the pass comes just after it.
  int64_t ready_slack_ns = 20'000'000;
};

// What a finished pass tells the schedule.
struct PassFinish {
  // The pass stopped on an error (not: some files failed).
  bool stopped_on_error = false;
  // The listing was cut short (--max-files, --max-seconds): resume soon.
  bool cut_short = false;
  // How long until the earliest deferred file could be stable; negative
  // when none waits on the clock.
  int64_t ready_in_ns = -1;
};

// Decides when the watch runs its next pass, from the changes seen, the
// stability deadline the last pass reported, and --interval. Pure logic:
// every call takes "now" (a monotonic time in nanoseconds) from the caller,
// so tests drive it with made-up times. Not thread-safe.
class WatchSchedule {
 public:
  // The first pass is due at `now`: it takes what arrived while nothing
  // was watching.
  WatchSchedule(const WatchTiming& timing, int64_t now);

  // A change in staging that a pass may act on.
  void OnChange(int64_t now);
  // Changes were lost (inotify queue overflow): a pass as soon as allowed.
  void OnOverflow();
  // A pass starts: it sees every change made before this moment.
  void OnPassStarted(int64_t now);
  void OnPassFinished(int64_t now, const PassFinish& finish);

  // When the next pass is due (monotonic ns).
  int64_t NextPassAt() const;
  bool Due(int64_t now) const { return now >= NextPassAt(); }
  // Milliseconds to wait for events before the next pass is due, rounded
  // up, for poll(2); 0 when it is due.
  int TimeoutMs(int64_t now) const;

 private:
  WatchTiming timing_;
  bool asap_ = true;  // a pass as soon as not_before_ allows
  // Changes no pass has seen yet: the first and the last.
  bool changed_ = false;
  int64_t first_change_ = 0;
  int64_t last_change_ = 0;
  // The earliest stability deadline the last pass reported.
  bool has_ready_ = false;
  int64_t ready_at_ = 0;
  int64_t last_end_;    // end of the last pass
  int64_t not_before_;  // no pass starts before this
};

}  // namespace ingest
