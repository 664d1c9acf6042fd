#pragma once

#include <initializer_list>
#include <vector>

#include "status.h"
#include "unique_fd.h"

namespace ingest {

// Turns signals into readable events: blocks them in the calling thread and
// opens a signalfd(2) for them (SFD_CLOEXEC | SFD_NONBLOCK). Threads
// started afterwards inherit the blocked mask, so create it before any
// other thread exists (LevelDB starts one when the state opens): then no
// thread is ever interrupted, and the signals are read where the poll loop
// decides. The signals stay blocked when this is destroyed: one arriving
// while the process shuts down cleanly must not kill it. Move-only; not
// thread-safe.
class SignalFd {
 public:
  static Status Open(std::initializer_list<int> signals, SignalFd* out);

  int fd() const { return fd_.get(); }
  // Appends the signals received since the last call, without blocking.
  Status Read(std::vector<int>* signals);

 private:
  UniqueFd fd_;
};

}  // namespace ingest
