#pragma once

#include <memory>
#include <string>

#include "env.h"
#include "options.h"
#include "state_store.h"

namespace ingest {

// The name of the database directory in --state-path.
inline constexpr const char* kStateDbName = "db";

// The file in the state directory whose flock is the run lock, beside the
// flock on the directory itself.
inline constexpr const char* kStateLockName = "lock";

// Opens the state directory, creating it unless `read_only`, and takes its
// run lock: flock on the directory (`*dir`), which older versions take,
// and on the file kStateLockName in it (`*lock`; created unless
// `read_only`, and skipped when missing then), since some network
// filesystems (ceph-fuse) let flock on a directory exclude only the
// processes of one client, not other hosts. Busy when another run holds
// either.
Status LockState(Env* env, const Options& o, bool read_only, File* dir, File* lock);

// The state a pass works on: the state directory, whose descriptor holds
// the run lock, and the database in it.
struct LockedState {
  File dir;
  File lock;
  std::unique_ptr<StateStore> store;
};

// Takes the run lock on --state-path and opens its database: for a dry run
// a private copy of it, or an empty state before the first run. Busy when
// another run holds the lock. A missing database while the manifests hold
// records is Corruption: a state directory that lost its database would
// ingest everything again. A state of another shard than --shard is
// InvalidArgument (state_shard.h); a first --shard is recorded.
Status OpenLockedState(Env* env, const Options& o, LockedState* out);

// Opens the state for reading, without its lock, so that it works while a
// pass or `watch` holds it: a private copy (state_store.h), or an empty
// store when there is no database yet (*exists false). A state of another
// shard than --shard is InvalidArgument.
Status OpenStateForReading(const Options& o, std::unique_ptr<StateStore>* state, bool* exists);

}  // namespace ingest
