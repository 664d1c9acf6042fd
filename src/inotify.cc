#include "inotify.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ingest {

Status Inotify::Open(Inotify* out) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return Status::FromErrno("cannot start inotify", errno);
  out->fd_ = UniqueFd(fd);
  return Status::OK();
}

Status Inotify::AddWatch(const std::string& path, uint32_t mask, int* wd) {
  int w = ::inotify_add_watch(fd_.get(), path.c_str(), mask);
  if (w < 0) return Status::FromErrno("cannot watch " + path, errno);
  *wd = w;
  return Status::OK();
}

Status Inotify::RemoveWatch(int wd) {
  if (::inotify_rm_watch(fd_.get(), wd) != 0) {
    return Status::FromErrno("cannot remove an inotify watch", errno);
  }
  return Status::OK();
}

Status Inotify::Read(std::vector<InotifyEvent>* events) {
  // Big enough for many events at once; aligned as struct inotify_event
  // requires.
  alignas(struct inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Status::OK();
      return Status::FromErrno("cannot read inotify events", errno);
    }
    if (n == 0) return Status::OK();
    for (ssize_t off = 0; off < n;) {
      struct inotify_event header;
      std::memcpy(&header, buf + off, sizeof header);
      InotifyEvent e;
      e.wd = header.wd;
      e.mask = header.mask;
      // The name is NUL-padded to the record's length.
      if (header.len > 0)
        e.name.assign(buf + off + sizeof header, ::strnlen(buf + off + sizeof header, header.len));
      events->push_back(std::move(e));
      off += static_cast<ssize_t>(sizeof header + header.len);
    }
  }
}

}  // namespace ingest
