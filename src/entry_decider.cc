#include "entry_decider.h"

#include <dirent.h>

#include <string>

#include "fs_util.h"
#include "sidecar.h"

namespace ingest {

EntryDecider::EntryDecider(Env* env, const Options& options, Clock* clock, const File& input,
                           const FileStat& input_st, const std::set<uint64_t>* unresolved)
    : env_(env),
      options_(options),
      clock_(clock),
      input_(input),
      input_st_(input_st),
      unresolved_(unresolved) {}

Status EntryDecider::Init() { return env_->IsNetworkFs(input_, &network_fs_); }

bool EntryDecider::OnInputMount(const StagingDir& dir) {
  uint64_t a = 0, b = 0;
  return dir.st.dev == input_st_.dev && env_->MountId(input_, &a).ok() &&
         env_->MountId(dir.file, &b).ok() && a == b;
}

bool EntryDecider::NeedsStat(std::string_view rel, const DirEntry& e) const {
  if (ClassifyName(e.name) != NameFilter::kCandidate) return false;
  if (e.type == DT_DIR && options_.recursive) return false;
  if (e.type != DT_REG && e.type != DT_UNKNOWN) return false;
  const Shard& shard = options_.shard;
  if (shard.enabled() && !(e.type == DT_UNKNOWN && options_.recursive)) {
    return ShardOfEntry(rel, e.name) == shard.index;
  }
  return true;
}

uint32_t EntryDecider::ShardOfEntry(std::string_view rel, std::string_view name) const {
  if (!options_.shard.enabled()) return 0;
  const std::string_view owner = ShardOwnerName(name);
  return ShardOf(JoinPath(rel, owner), options_.shard.count);
}

bool EntryDecider::OtherShard(std::string_view rel, std::string_view name,
                              EntryDecision* out) const {
  if (!options_.shard.enabled()) return false;
  const uint32_t k = ShardOfEntry(rel, name);
  if (k == options_.shard.index) return false;
  out->verdict = EntryVerdict::kOtherShard;
  out->owner = Shard{k, options_.shard.count};
  return true;
}

Status EntryDecider::Decide(const File& dir, std::string_view rel, const DirEntry& e,
                            SnapshotTable* table, EntryDecision* out, const PreStat* prestat) {
  *out = EntryDecision();
  const std::string name(e.name);
  out->filter = ClassifyName(name);
  const bool recursive = options_.recursive;
  // Every shard walks every directory; files, and the sidecars and temp
  // names that go with them, are shared out by name before any stat.
  const bool is_dir = e.type == DT_DIR && recursive && out->filter == NameFilter::kCandidate;
  if (!is_dir && !(e.type == DT_UNKNOWN && recursive && out->filter == NameFilter::kCandidate) &&
      OtherShard(rel, name, out)) {
    return Status::OK();
  }
  if (out->filter != NameFilter::kCandidate) {
    out->verdict = EntryVerdict::kSkip;
    out->reason = NameFilterText(out->filter);
    return Status::OK();
  }
  if (is_dir) {
    out->verdict = EntryVerdict::kDescend;
    return Status::OK();
  }
  if (e.type != DT_REG && e.type != DT_UNKNOWN) {
    out->verdict = EntryVerdict::kSkip;
    out->reason = "not a regular file";
    return Status::OK();
  }

  FileStat& st = out->st;
  Status s;
  if (prestat != nullptr) {
    s = prestat->status;
    st = prestat->st;
  } else {
    s = env_->StatAt(dir, name, &st);
  }
  if (s.IsNotFound()) {
    out->verdict = EntryVerdict::kGone;
    return Status::OK();
  }
  if (!s.ok()) {
    out->verdict = EntryVerdict::kFailed;
    out->error = s;
    return Status::OK();
  }
  out->examined = true;
  if (st.IsDirectory() && recursive) {
    out->verdict = EntryVerdict::kDescend;
    return Status::OK();
  }
  // A type unknown from the listing is known now.
  if (e.type == DT_UNKNOWN && recursive && OtherShard(rel, name, out)) {
    out->examined = false;
    return Status::OK();
  }
  if (!st.IsRegular()) {
    out->verdict = EntryVerdict::kSkip;
    out->reason = "not a regular file";
    return Status::OK();
  }
  if (unresolved_ != nullptr && unresolved_->count(st.ino)) {
    out->verdict = EntryVerdict::kUnresolved;
    out->reason = "its earlier commit could not be finished (see the recovery error)";
    return Status::OK();
  }

  // Before the snapshots: a file too small is no candidate, so it leaves
  // no evidence behind, and its window starts once it has grown.
  if (st.size < static_cast<uint64_t>(options_.min_size)) {
    out->verdict = EntryVerdict::kSkip;
    out->too_small = true;
    out->reason = "smaller than --min-size";
    return Status::OK();
  }

  s = table->Find(e.pos, name, &out->previous);
  if (!s.ok()) return s;
  const std::optional<Snapshot>& previous = out->previous;
  // ctime is left out here: renaming or unlinking another hard link of a
  // kept file changes it, and that is no change of content.
  if (previous && !previous->kept_sha256.empty() && previous->ino == st.ino &&
      previous->size == st.size && previous->mtime_ns == st.mtime_ns) {
    out->verdict = EntryVerdict::kSkip;
    out->reason = "kept duplicate";
    return Status::OK();
  }

  if (options_.mode == Mode::kSidecar) {
    FileStat ok;
    Status has = env_->StatAt(dir, name + std::string(kSidecarSuffix), &ok);
    if (!has.ok() || !ok.IsRegular()) {
      out->verdict = EntryVerdict::kWaitSidecar;
      out->reason = "waiting for .ok";
      return Status::OK();
    }
    // The .ok is written after the file is closed, so a file written to
    // since (its mtime), or renamed or relinked since (its ctime), is not
    // complete yet: its uploader wrote the .ok too early. The .ok's ctime
    // is the moment it appeared here; its mtime may be the sender's (rsync
    // -t keeps it). Equal times pass: timestamps are coarser than a write.
    if (st.mtime_ns > ok.ctime_ns || st.ctime_ns > ok.ctime_ns) {
      out->verdict = EntryVerdict::kWaitSidecar;
      out->reason = "changed after its .ok appeared; waiting for a newer .ok";
      return Status::OK();
    }
    out->has_sidecar = true;
  } else {
    StabilityInput in;
    in.st = st;
    in.previous = previous ? &*previous : nullptr;
    in.now_ns = clock_->NowNs();
    in.window_ns = options_.stability_seconds * kNanosPerSecond;
    in.network_fs = network_fs_;
    out->stability = DecideStability(in);
    out->judged_at_ns = in.now_ns;
    // A complete file needs no evidence kept: its commit would delete it,
    // and should it not commit, its timestamps only grow older.
    if (out->stability.store_snapshot && !out->stability.complete) {
      table->Put(e.pos, name, out->stability.snapshot);
    }
    if (!out->stability.complete) {
      out->verdict = EntryVerdict::kWaitStable;
      out->reason = "not yet stable";
      return Status::OK();
    }
  }
  out->verdict = EntryVerdict::kReady;
  return Status::OK();
}

}  // namespace ingest
