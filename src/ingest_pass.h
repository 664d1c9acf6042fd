#pragma once

#include <atomic>

#include "clock.h"
#include "env.h"
#include "hooks.h"
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
//
// With --exec, the pass then runs the queued post-ingest hooks (hooks.h)
// with `hooks`, or with the --exec command when it is null; not after a
// stop request, which leaves them queued for the next pass.
Status RunIngestPass(const Options& options, Env* env, Clock* clock, StateStore* state,
                     PassStats* stats, const std::atomic<bool>* stop = nullptr,
                     HookRunner* hooks = nullptr);

}  // namespace ingest
