#include "stability.h"

#include <algorithm>

namespace ingest {

StabilityVerdict DecideStability(const StabilityInput& in) {
  StabilityVerdict v;
  const FileStat& st = in.st;
  const Snapshot* prev = in.previous;
  const bool same_tuple = prev != nullptr && prev->ino == st.ino &&
                          prev->size == st.size && prev->mtime_ns == st.mtime_ns &&
                          prev->ctime_ns == st.ctime_ns && prev->first_seen_ns <= in.now_ns;
  v.snapshot = Snapshot{st.dev,      st.ino,      st.size,
                        st.mtime_ns, st.ctime_ns, same_tuple ? prev->first_seen_ns : in.now_ns,
                        ""};
  v.store_snapshot = !same_tuple;

  const int64_t observed_age = in.now_ns - v.snapshot.first_seen_ns;
  int64_t age = observed_age;
  const char* evidence = "observed";
  const int64_t newest = std::max(st.mtime_ns, st.ctime_ns);
  if (!in.network_fs && newest <= in.now_ns && in.now_ns - newest > observed_age) {
    age = in.now_ns - newest;
    evidence = "timestamps";
  }
  if (age >= in.window_ns) {
    v.complete = true;
    v.evidence = evidence;
  } else {
    v.wait_ns = in.window_ns - age;
  }
  return v;
}

}  // namespace ingest
