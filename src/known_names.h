#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "env.h"
#include "status.h"

namespace ingest {

// The names a warehouse directory holds as far as this process knows them:
// those one listing of the directory read, and those added since. Asked
// about a name, it answers "certainly not known" or "maybe known"; it is a
// Bloom filter, 2 bytes a name, that grows a layer (twice the size of the
// last) whenever one fills, so that a directory of a million names and the
// names a long pass adds stay under a 1% false-positive rate.
// A name it does not know may still be in the directory: another process
// can have put it there since the listing. Its users rely on
// renameat2(RENAME_NOREPLACE) for that, and a false "maybe" only costs a
// stat. Not thread-safe.
class KnownNames {
 public:
  // Lists `dir` (freshly opened) into *out, unless it holds more than
  // `max_names` entries: then *complete is false and *out holds only part
  // of them, to be discarded.
  static Status List(Env* env, const File& dir, size_t max_names, KnownNames* out, bool* complete);

  void Add(std::string_view name);
  // False: `name` was neither listed nor added. True: it was, or (about one
  // time in a hundred) it collides with one that was.
  bool MayHave(std::string_view name) const;

  size_t size() const { return count_; }

 private:
  struct Layer {
    std::vector<uint64_t> bits;
    size_t capacity = 0;  // names it takes at its designed rate
    size_t count = 0;
  };
  static bool Test(const Layer& l, uint64_t h);

  std::vector<Layer> layers_;
  size_t count_ = 0;
};

}  // namespace ingest
