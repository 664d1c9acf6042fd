#pragma once

#include "state_store.h"
#include "status.h"

namespace ingest {

// Brings a state written by an older version to the current key layout
// (records.h), once: the first layout named staged directories by
// "<dev>:<ino>", and st_dev changes with every mount, so such keys were lost
// on a remount or a takeover by another host. The rewrite keeps every
// record; a crash part-way leaves both forms of some keys, and the next
// open finishes the rewrite. A no-op, one Get, on a current state.
Status UpgradeStateLayout(StateStore* state);

}  // namespace ingest
