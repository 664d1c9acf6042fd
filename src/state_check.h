#pragma once

#include <string>

#include "env.h"
#include "shard.h"
#include "state_store.h"

namespace ingest {

// Checks that the state is not behind the manifests: the newest record
// this instance wrote (its source in `input`; other instances may share the
// manifest root) must be in the content index. LevelDB treats a damaged
// tail of its log like a torn write and drops it silently, and a state that
// forgot committed contents would ingest them again. Run after recovery,
// when no commit is open. Corruption, naming both, when the check fails; a
// tree without such a record (within the last few MiB of records) passes.
// `state_name` names the database in the error. With --shard, only records
// of files of `shard` count: the other shards' are in their own states.
Status CheckStateAgainstManifests(Env* env, const File& manifests, const std::string& input,
                                  StateStore* state, const std::string& state_name,
                                  const Shard& shard = {});

// Whether some manifest under `root` holds a record of a file staged in
// `input`: then a missing state database means a lost one, not a new
// instance. With --shard, only records of files of `shard` count. Reads
// the whole tree when there is none (once, when an instance first starts);
// unreadable parts are passed over.
bool ManifestsHoldRecordsFrom(Env* env, const std::string& root, const std::string& input,
                              const Shard& shard = {});

}  // namespace ingest
