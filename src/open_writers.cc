#include "open_writers.h"

#include <spdlog/spdlog.h>

#include <cerrno>

namespace ingest {

OpenWriters::OpenWriters(Env* env, std::string input_path, bool network_fs)
    : env_(env), input_path_(std::move(input_path)), network_fs_(network_fs) {}

bool OpenWriters::Held(const File& file) {
  if (network_fs_) {
    SayBlind(Status::OK());
    return false;
  }
  if (unsupported_.load(std::memory_order_relaxed)) return false;
  bool held = false;
  Status s = env_->HeldForWriting(file, &held);
  if (s.ok()) return held;
  // EACCES: another owner's file, without CAP_LEASE; the next file may be
  // this user's own. Anything else is the filesystem's answer for all.
  if (s.err() != EACCES && s.err() != EPERM) unsupported_.store(true, std::memory_order_relaxed);
  SayBlind(s);
  return false;
}

void OpenWriters::SayBlind(const Status& why) {
  if (said_.exchange(true)) return;
  if (why.ok()) {
    spdlog::info(
        "{} is on a network filesystem, where writers on other hosts cannot be seen: a file is "
        "complete by the stability window or its .ok alone",
        input_path_);
  } else if (why.err() == EACCES || why.err() == EPERM) {
    spdlog::warn(
        "cannot tell whether files in {} are still open for writing ({}); this pass relies on "
        "the stability window or the .ok alone. Run as the files' owner or with CAP_LEASE",
        input_path_, why.ToString());
  } else {
    spdlog::warn(
        "cannot tell whether files in {} are still open for writing ({}); this pass relies on "
        "the stability window or the .ok alone",
        input_path_, why.ToString());
  }
}

}  // namespace ingest
