#pragma once

#include <string>

#include "env.h"
#include "state_store.h"

namespace ingest {

// Checks that the state is not behind the manifests: the newest record of
// the newest manifest must be in the content index. LevelDB treats a
// damaged tail of its log like a torn write and drops it silently, and a
// state that forgot committed contents would ingest them again. Run after
// recovery, when no commit is open. Corruption, naming both, when the check
// fails; a missing or empty manifest tree passes.
// `state_name` names the database in the error.
Status CheckStateAgainstManifests(Env* env, const File& manifests, StateStore* state,
                                  const std::string& state_name);

}  // namespace ingest
