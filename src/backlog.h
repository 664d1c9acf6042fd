#pragma once

#include <cstdint>
#include <string>

#include "env.h"

namespace ingest {

// The files waiting in staging, counted while a pass or `status` decides
// each entry anyway, so the figures cost no walk of their own: files and
// bytes per group (the groups of `status`: not yet stable, waiting for
// .ok, failed, ready), and the oldest of them.
//
// A file's age is that of its ctime, the last time its inode changed: it
// arrived in staging then, or was last written to. Not its mtime: rsync
// -t, cp -p and tar carry the sender's mtime along, which would make a file
// that arrived a moment ago look years old.
struct BacklogGroup {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

struct Backlog {
  BacklogGroup not_yet_stable;
  BacklogGroup waiting_for_ok;
  BacklogGroup failed;
  BacklogGroup ready;  // status only: a pass takes them
  // The oldest file counted (smallest ctime), and its path; 0 and empty
  // when none was counted.
  int64_t oldest_ctime_ns = 0;
  std::string oldest_path;

  // Counts the file `st` (as the scan saw it) in `group`, one of the
  // above. `path()` names it; it is called only when the file is the
  // oldest so far, so that the common case builds no string.
  template <typename PathFn>
  void Add(BacklogGroup* group, const FileStat& st, PathFn path) {
    ++group->files;
    group->bytes += st.size;
    if (oldest_path.empty() || st.ctime_ns < oldest_ctime_ns) {
      oldest_ctime_ns = st.ctime_ns;
      oldest_path = path();
    }
  }

  // A file that could not be examined (its stat failed): counted, with no
  // bytes or age to give.
  static void AddUnexamined(BacklogGroup* group) { ++group->files; }

  uint64_t files() const {
    return not_yet_stable.files + waiting_for_ok.files + failed.files + ready.files;
  }
  uint64_t bytes() const {
    return not_yet_stable.bytes + waiting_for_ok.bytes + failed.bytes + ready.bytes;
  }
  // How long the oldest file has waited at `now_ns`; 0 when none waits (or
  // its ctime is in the future).
  int64_t OldestAgeNs(int64_t now_ns) const {
    return oldest_path.empty() || now_ns < oldest_ctime_ns ? 0 : now_ns - oldest_ctime_ns;
  }
};

}  // namespace ingest
