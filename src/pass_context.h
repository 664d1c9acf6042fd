#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "backlog.h"
#include "claims.h"
#include "clock.h"
#include "env.h"
#include "manifest_writer.h"
#include "options.h"
#include "progress.h"
#include "state_store.h"

namespace ingest {

class IntentJournal;
class OpenWriters;
class ThreadPool;

// What every stage of a pass shares: the options, the open roots and the
// services. Owned by the pass; stages borrow it.
struct PassContext {
  const Options* options = nullptr;
  Env* env = nullptr;
  Clock* clock = nullptr;
  StateStore* state = nullptr;
  File input;
  FileStat input_st;  // identity of the input directory, for snapshot keys
  File warehouse;
  uint64_t warehouse_dev = 0;  // its st_dev
  File manifests;
  // <warehouse>/.atomic-ingest-tmp, where copies across filesystems are
  // staged before their rename into place.
  File tmp_dir;
  bool cross_fs = false;
  // The warehouse's content claims (claims.h), and this state's owner id
  // in them ("" in a dry run before the first real run). Null without a
  // warehouse.
  ClaimSpace* claims = nullptr;
  std::string claim_owner;
  ManifestWriter* manifest = nullptr;
  // Where step I writes intents; null in a dry run.
  IntentJournal* journal = nullptr;
  // The veto on files still open for writing (open_writers.h); null: none.
  OpenWriters* writers = nullptr;
  // Threads for the loops that run on several at once (thread_pool.h).
  ThreadPool* pool = nullptr;
  // Inode numbers of staged files whose open intent recovery could not
  // finish this pass; the scan leaves them alone. Bounded by the open
  // intents. All staged files are on one filesystem, so the inode suffices.
  std::set<uint64_t> unresolved;
  // The claims of the ingests among them, by sha256: this instance's own
  // claims are not in its claim index, and a copy of such a content must
  // neither be ingested nor counted as new while that commit is open.
  std::map<std::string, Claim> unresolved_claims;
  ProgressCounters progress;
  // Set by another thread to end the pass early (watch's SIGTERM): the scan
  // stops between entries, saving its cursor as --max-files does, and what
  // was submitted is hashed and committed. Null: never.
  const std::atomic<bool>* stop = nullptr;
};

// Counters of one pass, reported in its summary record.
struct PassStats {
  uint64_t files_ingested = 0;
  uint64_t bytes_ingested = 0;
  uint64_t duplicates = 0;
  uint64_t deferred = 0;
  uint64_t failed = 0;
  uint64_t skipped = 0;
  uint64_t recovered = 0;
  uint64_t queue_depth_peak = 0;
  // The earliest time (ctx clock, ns) a file deferred as not yet stable
  // could be complete; 0 when none waits on the clock.
  int64_t next_ready_ns = 0;
  // The listing stopped early (--max-files, --max-seconds or a stop
  // request); the next pass resumes it.
  bool cut_short = false;
  // --exec hooks that exited 0 (their records are gone), and runs that
  // failed (their records stay for the next run).
  uint64_t hooks_completed = 0;
  uint64_t hooks_failed = 0;
  // What the scan left waiting in staging (never `ready`: those went to
  // the pipeline), for the metrics file. Only the part listed when the
  // listing was cut short.
  Backlog backlog;
  // The scan ran to the end of its listing without an error, so `backlog`
  // is worth publishing; a pass that failed before or during it leaves
  // the metrics file without backlog series rather than with zeros.
  bool backlog_counted = false;
};

}  // namespace ingest
