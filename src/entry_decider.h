#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "clock.h"
#include "dir_scanner.h"
#include "env.h"
#include "options.h"
#include "prepare.h"
#include "records.h"
#include "shard.h"
#include "snapshot_table.h"
#include "stability.h"
#include "stat_ahead.h"

namespace ingest {

// What becomes of one listed entry of a staging directory.
enum class EntryVerdict {
  kGone,         // removed since it was listed
  kOtherShard,   // --shard: another shard's file (or its sidecar or temp
                 // name); see `owner`. Not this instance's to count.
  kSkip,         // never a candidate; `reason` says why
  kDescend,      // a subdirectory to list (--recursive)
  kFailed,       // could not be examined; see `error`
  kUnresolved,   // its earlier commit is still open; left alone this pass
  kWaitSidecar,  // sidecar mode: no "<name>.ok" yet
  kWaitStable,   // stability mode: not stable yet; see `stability.wait_ns`
  kReady,        // complete: to be hashed and committed
};

struct EntryDecision {
  EntryVerdict verdict = EntryVerdict::kGone;
  // kSkip, kUnresolved and the waits: the words a log line uses.
  const char* reason = "";
  // kSkip by name: which filter.
  NameFilter filter = NameFilter::kCandidate;
  // kSkip: a regular file smaller than --min-size.
  bool too_small = false;
  Status error;  // kFailed
  // kOtherShard: the shard whose file it is.
  Shard owner;
  // From fstatat, once the entry was examined (not for name filters).
  FileStat st;
  bool examined = false;
  // The stability snapshot an earlier pass recorded, if any.
  std::optional<Snapshot> previous;
  // Stability mode, once the file was judged: the verdict, with its
  // evidence and wait.
  StabilityVerdict stability;
  int64_t judged_at_ns = 0;  // the clock's time of that verdict
  bool has_sidecar = false;  // kReady in sidecar mode
};

// The one place that decides what a pass does with a staging entry: the
// name filters, the file type, an open commit, --min-size, a kept
// duplicate, the sidecar and the stability window. The pass, `status` and
// `explain` all ask it, so they never disagree. Not thread-safe.
class EntryDecider {
 public:
  // `input` (with its identity `input_st`) is the staging root; it, and
  // `unresolved` (may be null: nothing is unresolved), must outlive the
  // decider. `unresolved` holds the inode numbers of staged files whose
  // open commit recovery could not finish.
  EntryDecider(Env* env, const Options& options, Clock* clock, const File& input,
               const FileStat& input_st, const std::set<uint64_t>* unresolved);

  // Learns whether staging is on a network filesystem, where timestamps
  // are not evidence. Call once, before Decide.
  Status Init();

  // Decides about entry `e` of `dir`, the directory `rel` below --input
  // ("" for --input itself), whose snapshots `table` holds (it
  // must have been begun at or before e.pos). A new stability snapshot is
  // put into `table`, which ignores it when read-only. An error returned
  // is the state's: the listing must stop.
  // `prestat`, if given, is the entry's fstatat taken ahead (stat_ahead.h)
  // for an entry that NeedsStat().
  Status Decide(const File& dir, std::string_view rel, const DirEntry& e, SnapshotTable* table,
                EntryDecision* out, const PreStat* prestat = nullptr);

  // Whether Decide would stat entry `e` of directory `rel`: what passes the
  // name filters, the type from the listing and, with --shard, the name's
  // shard. Another shard's file is decided by name alone, never stat'ed,
  // unless its type is unknown under --recursive (it may be a directory,
  // which every shard walks).
  bool NeedsStat(std::string_view rel, const DirEntry& e) const;

  // With --shard, the shard of entry `name` of directory `rel`, by the name
  // it goes with (ShardOwnerName); without it, 0.
  uint32_t ShardOfEntry(std::string_view rel, std::string_view name) const;

  // Whether a subdirectory about to be listed is on the input's mount:
  // like `find -xdev`, the scan never leaves it, since another mount would
  // need copies, not renames.
  bool OnInputMount(const StagingDir& dir);

  bool network_fs() const { return network_fs_; }

 private:
  // Whether another shard owns entry `name` of `rel`; sets out->owner and
  // the verdict if so.
  bool OtherShard(std::string_view rel, std::string_view name, EntryDecision* out) const;

  Env* env_;
  const Options& options_;
  Clock* clock_;
  const File& input_;
  const FileStat& input_st_;
  const std::set<uint64_t>* unresolved_;
  bool network_fs_ = false;
};

}  // namespace ingest
