#include "state_shard.h"

#include <memory>
#include <string>

#include "records.h"

namespace ingest {

namespace {

// Whether the state holds a content record: it has ingested.
Status HasIngested(StateStore* state, bool* ingested) {
  std::unique_ptr<StateIterator> it = state->NewIterator();
  it->Seek(keys::kContent);
  *ingested = it->Valid() && it->key().starts_with(keys::kContent);
  return it->status();
}

std::string Named(const std::string& shard) {
  return shard.empty() ? "no shard" : "shard " + shard;
}

}  // namespace

Status BindStateShard(StateStore* state, const Options& o, bool write) {
  const std::string given = o.shard.ToString();
  std::string recorded;
  Status s = state->Get(keys::kShard, &recorded);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (s.IsNotFound()) recorded.clear();
  if (recorded == given) return Status::OK();
  if (recorded.empty()) {
    bool ingested = false;
    s = HasIngested(state, &ingested);
    if (!s.ok()) return s;
    if (!ingested) {
      return write ? state->Apply({{std::string(keys::kShard), given}}, /*sync=*/true)
                   : Status::OK();
    }
  }
  return Status::InvalidArgument(
      "--state-path " + o.state_path + " serves " + Named(recorded) + ", not " + Named(given) +
      (given.empty() ? " (no --shard)" : " (--shard " + given + ")") +
      ": each shard keeps its own state. To change the shards, let every shard run until "
      "staging is empty, then start the new ones on fresh --state-path directories, or run "
      "'atomic-ingest rebuild-state --shard K/N' on each state");
}

Status RecordStateShard(StateStore* state, const Options& o) {
  if (!o.shard.enabled()) return Status::OK();
  return state->Apply({{std::string(keys::kShard), o.shard.ToString()}}, /*sync=*/true);
}

}  // namespace ingest
