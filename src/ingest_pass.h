#pragma once

#include <atomic>

#include "clock.h"
#include "env.h"
#include "options.h"
#include "pass_context.h"
#include "state_store.h"

namespace ingest {

// One pass over the input directory: recover open intents, scan, decide
// which files are complete, hash and commit them. The caller holds the
// state lock. Files that fail alone are counted in `stats`; an error
// returned means the pass stopped early (a root is unusable, a durability
// barrier or the state failed). Once `*stop` (if given) becomes true, the
// scan submits nothing more and the pass ends after committing what it
// submitted, with stats->cut_short set.
Status RunIngestPass(const Options& options, Env* env, Clock* clock, StateStore* state,
                     PassStats* stats, const std::atomic<bool>* stop = nullptr);

}  // namespace ingest
