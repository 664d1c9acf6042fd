#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dir_scanner.h"
#include "env.h"
#include "thread_pool.h"

namespace ingest {

// The fstatat of an entry, taken ahead of the decision about it.
struct PreStat {
  Status status;
  FileStat st;
};

// Lists a directory like DirScanner, but a chunk of entries at a time, and
// takes the fstatat of those `wanted` selects on several threads at once
// before handing the entries out in order. Listing a large, unchanged
// staging directory is one fstatat per entry, mostly path lookup in the
// kernel, which N cores do in about 1/N of the time. A stat is then up to a
// chunk older than the decision made with it; that is safe because a file
// is checked against its scanned identity again when it is opened. With one
// thread it is DirScanner, entry by entry, and takes no stat ahead, so the
// order of operations stays what it was. Not thread-safe itself.
class StatAhead {
 public:
  static constexpr size_t kChunk = 1024;
  // More threads than this only wait on each other in the kernel.
  static constexpr size_t kMaxThreads = 8;

  // `scanner`, `dir` and `pool` must outlive this object; stats are taken
  // on `threads` threads, the pool's and the caller's.
  StatAhead(Env* env, const File* dir, DirScanner* scanner, ThreadPool* pool, size_t threads,
            std::function<bool(const DirEntry&)> wanted);

  // Sets *done at the end of the listing; otherwise fills *entry (valid
  // until the next call) and *prestat: the entry's stat, or null when none
  // was taken ahead.
  Status Next(DirEntry* entry, const PreStat** prestat, bool* done);

 private:
  Status Fill();

  Env* env_;
  const File* dir_;
  DirScanner* scanner_;
  ThreadPool* pool_;
  const size_t threads_;
  std::function<bool(const DirEntry&)> wanted_;

  struct Item {
    DirEntry entry;  // its name points into `name`
    std::string name;
    bool stat = false;
    PreStat result;
  };
  std::vector<Item> chunk_;
  size_t next_ = 0;
  bool eof_ = false;
};

}  // namespace ingest
