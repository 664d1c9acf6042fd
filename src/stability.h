#pragma once

#include <cstdint>

#include "env.h"
#include "records.h"

namespace ingest {

struct StabilityInput {
  FileStat st;
  // The snapshot recorded by an earlier pass, or null.
  const Snapshot* previous = nullptr;
  int64_t now_ns = 0;
  int64_t window_ns = 0;
  // On network filesystems timestamps come from another clock, so only
  // observation across passes counts.
  bool network_fs = false;
};

struct StabilityVerdict {
  bool complete = false;
  // When not complete: how long until it could be.
  int64_t wait_ns = 0;
  // The snapshot to store when it differs from `previous`.
  bool store_snapshot = false;
  Snapshot snapshot;
  // Which evidence decided: "observed", "timestamps" or "" when waiting.
  const char* evidence = "";
};

// A file is complete when its (ino, size, mtime, ctime) tuple has
// stayed the same for the window. Evidence is either (a) this exact tuple
// observed by an earlier pass at least a window ago, or (b) on a local
// filesystem, mtime and ctime both at least a window old and not in the
// future. ctime cannot be set from user space, and a rename refreshes it,
// so (b) ingests an old backlog in one pass without trusting `touch`.
// A snapshot from the future (the clock went backwards) is restarted now.
StabilityVerdict DecideStability(const StabilityInput& in);

}  // namespace ingest
