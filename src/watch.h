#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "options.h"
#include "signal_fd.h"
#include "status.h"

namespace ingest {

// What one pass tells the watch.
struct WatchPassResult {
  // The pass stopped on an error (a root unusable, a failed barrier); files
  // that failed alone do not count.
  bool stopped_on_error = false;
  // The listing was cut short; the next pass resumes it.
  bool cut_short = false;
  // Wall-clock time (ns since the epoch) when the earliest deferred file
  // could be stable; 0 when none waits on the clock.
  int64_t next_ready_ns = 0;
};

// One pass over the locked state, logging its summary. It must end soon
// after `stop` becomes true, committing what it started.
using WatchPass = std::function<WatchPassResult(const std::atomic<bool>& stop)>;

// The resident mode: runs `pass` when staging changes (inotify on --input
// and, with --recursive, its subdirectories; a burst of events becomes one
// pass), when the stability window of a deferred file ends, after an event
// queue overflow, and at least every --interval seconds. The first pass
// runs at once. One pass at a time, on a thread of its own, while this
// thread reads signals and events:
//   - SIGTERM, SIGINT: the running pass stops listing and commits what it
//     submitted; then Watch returns OK.
//   - SIGHUP: the log file is reopened (RequestLogReopen).
// Returns an error when the input directory is deleted, moved or
// unmounted, or events cannot be read. `signals` must be open for SIGTERM,
// SIGINT and SIGHUP, from before any thread started.
Status Watch(const Options& options, SignalFd* signals, const WatchPass& pass);

}  // namespace ingest
