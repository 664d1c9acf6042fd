#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "backlog.h"
#include "entry_decider.h"
#include "env.h"
#include "failure_log.h"
#include "pass_context.h"
#include "prepare.h"
#include "snapshot_table.h"

namespace ingest {

class Pipeline;

// What the walk makes of a staging directory it opened.
enum class DirPlace {
  kListed,      // listed, its entries decided
  kGone,        // removed since its parent was listed
  kOtherMount,  // on another filesystem or mount: never entered
};

// The directories of staging, as every command that looks at staging sees
// them: --input and, with --recursive, each subdirectory the decider
// descends into, breadth first. The pass, `status` and `explain` all go
// through it, so they agree on which directories are listed: never one on
// another mount, never one through a symlink (each component opens with
// O_NOFOLLOW).
class StagingWalk {
 public:
  // `input` and `decider` must outlive the walk.
  StagingWalk(Env* env, const File& input, EntryDecider* decider)
      : env_(env), input_(input), decider_(decider) {}

  // Opens the directory `rel` below --input ("" for --input itself) and
  // says in `*place` whether it is listed.
  Status Open(const std::string& rel, std::shared_ptr<StagingDir>* out, DirPlace* place);

  // The next directory in the walk, skipping those removed since they were
  // queued: `*place` is kListed or kOtherMount. Sets `*done` at the end.
  Status Next(std::shared_ptr<StagingDir>* out, DirPlace* place, bool* done);

  // Queues subdirectory `name` of `dir`, for an entry the decider descends
  // into.
  void Descend(const StagingDir& dir, std::string_view name);

 private:
  Env* env_;
  const File& input_;
  EntryDecider* decider_;
  std::deque<std::string> pending_{""};
};

// The pass's scan: lists each directory of the walk, resuming at its
// persisted cursor, decides entry by entry what was found, and submits the
// complete files to the pipeline. Runs on the caller's thread.
class StagingScan {
 public:
  StagingScan(PassContext* ctx, Pipeline* pipeline);

  Status Run();

  uint64_t deferred() const { return deferred_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t failed() const { return failed_; }
  // The earliest time a file deferred as not yet stable could be complete
  // (for watch); 0 when none waits on the clock.
  int64_t next_ready_ns() const { return next_ready_ns_; }
  // --max-files, --max-seconds or a stop request ended the listing.
  bool cut() const { return cut_; }
  // The files the scan left waiting, by why (backlog.h).
  const Backlog& backlog() const { return backlog_; }

 private:
  Status ListDir(std::shared_ptr<StagingDir> dir);
  int64_t ResumeAt();
  Status SaveCursor(int64_t pos);
  Status ClearCursor();
  bool OutOfBudget();
  Status Consider(const DirEntry& e, const PreStat* prestat);
  void Skip(std::string_view name, const char* why);
  void Defer(std::string_view name, int64_t wait_ns, const char* why);
  void NoteReadyAt(int64_t ns);

  // How many entries apart the cursor is saved, so a crash resumes nearby.
  static constexpr uint64_t kCursorEvery = 4096;

  PassContext* ctx_;
  Pipeline* pipeline_;
  EntryDecider decider_;
  StagingWalk walk_;
  FailureLog failures_;
  // The directory being listed, its snapshots and its cursor.
  std::shared_ptr<const StagingDir> dir_;
  SnapshotTable* table_ = nullptr;
  std::string cursor_key_;
  int64_t started_ns_ = 0;
  bool stopped_ = false;  // the pipeline failed
  bool cut_ = false;
  int64_t submitted_ = 0;
  uint64_t deferred_ = 0;
  uint64_t skipped_ = 0;
  uint64_t failed_ = 0;
  int64_t next_ready_ns_ = 0;
  Backlog backlog_;
};

}  // namespace ingest
