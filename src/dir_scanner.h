#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "env.h"

namespace ingest {

struct DirEntry {
  std::string_view name;  // valid until the next call to Next()
  uint64_t ino = 0;
  uint8_t type = 0;         // DT_* from getdents64; DT_UNKNOWN on some filesystems
  int64_t pos = 0;          // the offset this entry was listed at
  int64_t next_offset = 0;  // d_off: where a listing resumes after this entry
};

// Streams a directory with getdents64 into one fixed buffer, so memory does
// not grow with the number of entries. "." and ".." are skipped. Not
// thread-safe.
class DirScanner {
 public:
  static constexpr size_t kDefaultBufferSize = 256 * 1024;

  // `dir` must outlive the scanner. `start` is the offset the directory
  // stream was positioned at (0 for a full listing).
  DirScanner(Env* env, const File* dir, size_t buffer_size = kDefaultBufferSize, int64_t start = 0);

  // Sets *done at the end of the listing; otherwise fills *entry.
  Status Next(DirEntry* entry, bool* done);

 private:
  Env* env_;
  const File* dir_;
  std::vector<char> buf_;
  size_t len_ = 0;
  size_t pos_ = 0;
  int64_t offset_ = 0;  // listing offset of the next entry
  bool eof_ = false;
};

// Calls `fn` on each entry of a whole listing of `dir`, which must be
// freshly opened; an error of the listing or of `fn` ends it.
Status ForEachEntry(Env* env, const File& dir, const std::function<Status(const DirEntry&)>& fn);

// The names of the directories in `dir`, sorted (manifest trees are read
// in time order this way).
Status ListSubdirectories(Env* env, const File& dir, std::vector<std::string>* out);

// Why a name is never a candidate.
enum class NameFilter { kCandidate, kHidden, kTempSuffix, kSidecar };

// Hidden names (leading '.'), temp suffixes (.tmp .part .swp) and ".ok"
// sidecars are never ingested.
NameFilter ClassifyName(std::string_view name);
const char* NameFilterText(NameFilter f);

}  // namespace ingest
