#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"
#include "unique_fd.h"

namespace ingest {

// One event read from an inotify descriptor.
struct InotifyEvent {
  int wd = -1;  // -1 with IN_Q_OVERFLOW
  uint32_t mask = 0;
  std::string name;  // the entry inside the watched directory, or empty
};

// Owner of an inotify instance, opened with IN_CLOEXEC | IN_NONBLOCK so it
// can sit in a poll(2) loop. Move-only; not thread-safe.
class Inotify {
 public:
  // Opens a new instance in *out.
  static Status Open(Inotify* out);

  bool isValid() const { return fd_.isValid(); }
  int fd() const { return fd_.get(); }

  // inotify_add_watch(). Watching an inode already watched returns its
  // watch descriptor again, with `mask` replacing the old one. err() ENOSPC
  // when the kernel's limit on watches (fs.inotify.max_user_watches) is
  // reached.
  Status AddWatch(const std::string& path, uint32_t mask, int* wd);
  // inotify_rm_watch(); an IN_IGNORED event follows.
  Status RemoveWatch(int wd);
  // Appends every event queued now to *events, without blocking.
  Status Read(std::vector<InotifyEvent>* events);

 private:
  UniqueFd fd_;
};

}  // namespace ingest
