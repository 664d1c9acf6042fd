#include "signal_fd.h"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace ingest {

Status SignalFd::Open(std::initializer_list<int> signals, SignalFd* out) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : signals) sigaddset(&set, sig);
  int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (err != 0) return Status::FromErrno("cannot block signals", err);
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return Status::FromErrno("cannot open a signalfd", errno);
  out->fd_ = UniqueFd(fd);
  return Status::OK();
}

Status SignalFd::Read(std::vector<int>* signals) {
  for (;;) {
    struct signalfd_siginfo info;
    ssize_t n = ::read(fd_.get(), &info, sizeof info);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Status::OK();
      return Status::FromErrno("cannot read the signalfd", errno);
    }
    if (n != static_cast<ssize_t>(sizeof info)) return Status::OK();
    signals->push_back(static_cast<int>(info.ssi_signo));
  }
}

}  // namespace ingest
