#pragma once

#include <atomic>
#include <string>

#include "env.h"

namespace ingest {

// The veto on completeness for files a process of this host still holds
// open for writing: a writer that stalled for longer than the stability
// window, or that wrote the .ok before it was done, is not taken mid-file.
// Where that cannot be seen (writers on other hosts of a network
// filesystem, or leases refused for want of CAP_LEASE), the rules of the
// mode alone decide, and the pass says so once. One per pass;
// thread-safe.
class OpenWriters {
 public:
  // `input_path` names staging in what is said; `network_fs`: staging is
  // on a network filesystem, whose remote writers no lease sees.
  OpenWriters(Env* env, std::string input_path, bool network_fs);

  // Whether `file` (open read-only) is held open for writing. False when
  // that cannot be told.
  bool Held(const File& file);

 private:
  // Says, once, why writers cannot be seen.
  void SayBlind(const Status& why);

  Env* env_;
  const std::string input_path_;
  const bool network_fs_;
  // Leases do not work on this filesystem at all: stop asking.
  std::atomic<bool> unsupported_{false};
  std::atomic<bool> said_{false};
};

}  // namespace ingest
