#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "env.h"
#include "inotify.h"

namespace ingest {

// What happened in staging since the last look.
struct StagingChanges {
  // An entry a pass may act on arrived, was closed after writing, changed
  // its attributes or went away (IN_CLOSE_WRITE, IN_MOVED_TO, IN_ATTRIB,
  // IN_CREATE, IN_DELETE), or, with --recursive, a directory came or went.
  // Names a pass never takes (hidden, .tmp, .part, .swp) are left out;
  // .ok sidecars count.
  bool changed = false;
  // The kernel's event queue overflowed: events were lost.
  bool overflow = false;
  // The input directory itself was deleted, moved or unmounted; `gone`
  // says which.
  bool input_gone = false;
  std::string gone;
};

// Watches --input with inotify and, with --recursive, every subdirectory a
// pass would enter (not hidden, not through a symlink, on the same mount),
// adding watches as directories arrive. The number of watches is bounded;
// when that bound or the kernel's limit is reached, or inotify is not
// available at all, a warning says so and the directories left out are
// covered only by the --interval passes. Not thread-safe.
class StagingWatcher {
 public:
  static constexpr size_t kDefaultMaxWatches = 8192;

  // `env` lists the directories; `input` is the absolute --input.
  StagingWatcher(Env* env, std::string input, bool recursive,
                 size_t max_watches = kDefaultMaxWatches);

  // Starts watching. Fails only when the input directory cannot be opened.
  Status Start();
  // The descriptor to poll for events; -1 when nothing is watched.
  int fd() const { return inotify_.isValid() ? inotify_.fd() : -1; }
  // Reads the queued events without blocking and sums them up in *changes.
  // With --recursive, re-lists the tree when directories came or went or
  // events were lost, to watch every directory again.
  Status Read(StagingChanges* changes);

  // Directories watched now.
  size_t watched() const { return watches_.size(); }
  // False when some directory is not watched (limits, or no inotify).
  bool complete() const { return complete_; }

 private:
  // Brings the watches in line with the tree: adds what is missing, drops
  // what left. NotFound when the input directory is gone.
  Status Resync();
  // Adds one watch; false (and complete_ false) when a limit is reached.
  bool Add(const std::string& rel, uint32_t mask, std::map<int, std::string>* seen);

  Env* env_;
  const std::string input_;
  const bool recursive_;
  const size_t max_watches_;
  Inotify inotify_;
  int root_wd_ = -1;
  std::map<int, std::string> watches_;  // watch descriptor -> path relative to input
  bool complete_ = false;
  bool warned_ = false;
};

}  // namespace ingest
