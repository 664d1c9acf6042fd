#pragma once

#include "pass_context.h"

namespace ingest {

// Finishes or undoes every open intent, then empties the warehouse's temp
// directory. Runs at the start of each pass, under the state lock, before
// anything new is planned; it is itself safe to crash and rerun.
//
// For each intent, the inode at the destination decides:
//   - it is there: the move happened and was made durable before any later
//     step, so roll forward: append the manifest record unless the manifest
//     already holds it, unlink the source of a copy and the .ok sidecar,
//     then commit the content index and drop the intent;
//   - it is not: nothing visible happened yet, so roll back: remove the temp
//     copy and drop the intent; the source is still in staging and the next
//     scan takes it again.
// Duplicate deletions are finished only when their content is committed.
Status RecoverIntents(PassContext* ctx, PassStats* stats);

}  // namespace ingest
