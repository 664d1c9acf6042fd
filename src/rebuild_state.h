#pragma once

#include <cstdint>

#include "env.h"
#include "options.h"

namespace ingest {

struct RebuildStats {
  uint64_t manifests = 0;  // files read
  uint64_t records = 0;    // content records written
  uint64_t skipped = 0;    // lines that were not records (garbage, torn tails)
  uint64_t repeats = 0;    // a content recorded more than once (kept the first)
  uint64_t forgotten = 0;  // records of contents forgotten since (forget.h)
};

// Rebuilds the content index from the manifests, which are the source of
// truth: every record under <manifests>/YYYY/MM/DD/HH/manifest.jsonl
// becomes the content record of its sha256. The new database is built
// beside the old one and swapped in; the old one is kept as
// db.replaced-<time> for inspection. Snapshots (stability hints) and kept
// duplicates are not in the manifests and start afresh. The caller holds
// the state lock.
Status RebuildState(const Options& options, Env* env, int64_t now_ns, RebuildStats* stats);

}  // namespace ingest
