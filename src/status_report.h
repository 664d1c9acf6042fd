#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backlog.h"
#include "clock.h"
#include "env.h"
#include "options.h"
#include "state_store.h"

namespace ingest {

// One file of a group of the report.
struct PendingFile {
  std::string path;
  // Not yet stable: the time left, and when a pass first saw the file as
  // it is now (0: no pass has yet).
  int64_t wait_ns = 0;
  int64_t first_seen_ns = 0;
  // Ready in stability mode: "observed" or "timestamps" (stability.h).
  const char* evidence = "";
  // Failed: the error, when a pass recorded it (0: found by this report,
  // not recorded) and how many passes in a row it failed.
  std::string error;
  int64_t failed_at_ns = 0;
  uint64_t attempts = 0;
};

// How many files are in a group, and the first of them in listing order.
struct PendingGroup {
  uint64_t count = 0;
  std::vector<PendingFile> files;  // at most the limit (all when it is 0)
};

struct StateReport {
  std::string db;  // the database directory
  bool exists = false;
  uint64_t bytes = 0;  // sizes of the files in `db`
  // Records per key prefix ("c/", "f/", "i/", "m/", "s/"; "other").
  std::map<std::string, uint64_t> records;
  // Intents of batches in the intent journal (intent_journal.h) that never
  // closed: a pass that stopped in the middle left them for recovery.
  uint64_t journal_open = 0;
  // The last pass's summary (JSON, with the "host" that ran it), or empty.
  std::string last_pass;
};

// What `atomic-ingest status` reports.
struct StatusReport {
  std::string input;
  Mode mode = Mode::kStability;
  int64_t stability_seconds = 0;
  bool recursive = false;
  int64_t limit = 0;
  PendingGroup unstable;  // stability mode: not yet stable
  PendingGroup sidecar;   // sidecar mode: waiting for <name>.ok
  PendingGroup failed;    // failed, at the last attempt or now
  PendingGroup ready;     // the next pass takes them
  uint64_t skipped = 0;   // never candidates
  // --shard: this instance's shard, and the files (with their sidecars
  // and temp names) of the other shards, counted in no group above.
  Shard shard;
  uint64_t other_shards = 0;
  // Files and bytes per group, and the oldest file (by ctime) of them all,
  // with how long it has waited at the time of the report.
  Backlog backlog;
  int64_t backlog_age_ns = 0;
  StateReport state;
};

// Lists staging as a pass would (--recursive, --mode, --stability-seconds)
// and sorts every entry into a group by asking the pass's own decider
// (entry_decider.h), changing nothing. A file that is ready but failed at
// its last attempt (failure_log.h) counts as failed. Memory does not grow
// with staging: each group keeps its count and at most `limit` files
// (all with 0). `state` is a private copy of the state (or an empty store
// when `db` does not exist yet).
Status GatherStatus(const Options& options, Env* env, Clock* clock, StateStore* state,
                    const std::string& db, bool db_exists, StatusReport* report);

// The report for people: counts always, then the listed files of each group
// and how many more there are.
std::string StatusText(const StatusReport& report);

// The report as one JSON document. Paths and errors that are not UTF-8 are
// escaped as in the manifests (name_escape.h), with "escaped": true in
// their object.
std::string StatusJson(const StatusReport& report);

}  // namespace ingest
