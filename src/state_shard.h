#pragma once

#include "options.h"
#include "state_store.h"
#include "status.h"

namespace ingest {

// Binds a state to the shard it serves (records.h's m/shard, "K/N"). Each
// shard keeps its own state: its snapshots, cursors and failure records
// are of its own files, and the checks against the shared manifests count
// only its own records. So a state serves one K/N for its whole life:
//  - a state that records a shard takes only runs with that --shard;
//  - a state without one takes runs without --shard, and a first
//    --shard only while it holds no content yet (then it is recorded,
//    unless `write` is false: a dry run, status, explain).
// Anything else is InvalidArgument naming the state, both values and how
// to re-shard (README, "Several hosts on one staging directory").
Status BindStateShard(StateStore* state, const Options& o, bool write);

// Records o.shard in a state being rebuilt (rebuild-state --shard K/N).
Status RecordStateShard(StateStore* state, const Options& o);

}  // namespace ingest
