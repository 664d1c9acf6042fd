#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "env.h"
#include "prepare.h"
#include "records.h"
#include "state_store.h"

namespace ingest {

// Whether the error a failure record holds will likely come back when the
// next pass tries the file again.
enum class FailureOutlook {
  kUnknown,  // an error of no known kind: the next pass will tell
  kRecurs,   // permissions, a full or read-only filesystem, a name too long,
             // an I/O error, a checksum mismatch: it fails the same way
             // until someone fixes the cause
  kPasses,   // the file changed, vanished or was replaced meanwhile
};

// The failure records of staged files (records.h, f/): the last error of a
// file that a pass could not examine, hash or commit, for `status` and
// `explain`. They are hints, like stability snapshots: written unsynced,
// after and apart from the writes of any commit, so a lost or failed write
// loses only the report, never a file, and never changes what a pass does.
// A record goes when its file commits, or when a full listing finds the
// file gone or replaced by another inode.
// Not thread-safe: each thread that fails files (the scan, the committer)
// has its own log.
class FailureLog {
 public:
  // `writable` is false for a dry run: nothing is noted or written.
  FailureLog(StateStore* state, bool writable);

  // Notes that `name` in `dir` failed with `error` at `now_ns`. `st` is
  // the file's identity, or null when it could not be examined. Counts the
  // attempts of a file that failed before.
  void Record(const StagingDir& dir, std::string_view name, const FileStat* st, const Status& error,
              int64_t now_ns);
  // Notes that `name` in `dir` committed: its record, if any, goes.
  void Clear(const StagingDir& dir, std::string_view name);
  // After a full listing of `dir`: drops the records of files that are no
  // longer there, or that another inode has replaced.
  void Prune(Env* env, const StagingDir& dir);
  // Writes what was noted in one unsynced batch. A failed write is logged
  // as a warning and dropped.
  void Flush();

  // The record of `name` in the directory with inode `dir_ino`, if any. A record
  // that does not decode is reported as absent.
  static Status Find(StateStore* state, uint64_t dir_ino, std::string_view name,
                     std::optional<FailureRecord>* out);
  // Whether the directory `dir_ino` has any failure record: one seek, so
  // a listing can skip the lookups of a directory without failures.
  static Status AnyIn(StateStore* state, uint64_t dir_ino, bool* any);
  // Whether `r` is about the file `st` and not an earlier one of that name.
  static bool Describes(const FailureRecord& r, const FileStat& st);
  // What the recorded error says about the next attempt.
  static FailureOutlook Outlook(const FailureRecord& r);

 private:
  // The record under `key`, counting what is noted but not yet written.
  std::optional<FailureRecord> Current(const std::string& key);

  StateStore* state_;
  const bool writable_;
  std::map<std::string, std::optional<std::string>> pending_;
  // Directories (their key prefixes) found without any record, so that
  // Clear costs no lookup per committed file there. One log lives for one
  // pass; a record it notes itself takes its directory off the list.
  std::set<std::string> clean_dirs_;
};

// A FailureLog for the threads of one committer (its planning and its
// finishing steps).
class SharedFailureLog {
 public:
  SharedFailureLog(StateStore* state, bool writable) : log_(state, writable) {}

  void Record(const StagingDir& dir, std::string_view name, const FileStat* st, const Status& error,
              int64_t now_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.Record(dir, name, st, error, now_ns);
  }
  void Clear(const StagingDir& dir, std::string_view name) {
    std::lock_guard<std::mutex> lock(mu_);
    log_.Clear(dir, name);
  }
  void Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    log_.Flush();
  }

 private:
  std::mutex mu_;
  FailureLog log_;
};

}  // namespace ingest
