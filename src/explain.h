#pragma once

#include <string>

#include "clock.h"
#include "env.h"
#include "options.h"
#include "state_store.h"

namespace ingest {

// Says why the file `options.path` was or was not ingested, changing
// nothing: outside --input, a name filter, not a regular file, inside a
// directory the scan does not enter, the stability timing, the sidecar (or
// its checksum), its last recorded failure, or, once hashed, a duplicate of
// which record. A file that is no longer in staging is looked up in the
// content index, then in the manifests under `options.manifests`, by its
// source or warehouse path. Each answer is a line "PATH: what", followed
// by lines "  detail: value", appended to *out.
// *known is false when PATH is neither in staging nor named by a record.
// An error returned means staging or the state could not be read.
Status Explain(const Options& options, Env* env, Clock* clock, StateStore* state, std::string* out,
               bool* known);

}  // namespace ingest
