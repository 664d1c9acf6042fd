#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "bounded_queue.h"
#include "failure_log.h"
#include "pass_context.h"
#include "prepare.h"
#include "records.h"

namespace ingest {

// Commits batches of prepared files with the protocol doc/design.md describes:
//   B1  barrier: hashed sources and temp copies durable
//   I   intents written (one append to the intent journal, made durable by
//       B1's syncfs when the journal shares a filesystem it syncs, else by
//       its own fdatasync)
//   M   renames into the warehouse
//   B2  barrier: renames durable
//   R   manifest records appended and synced
//   U   sources of copies, deleted duplicates and .ok sidecars unlinked
//   B3  barrier (only when U unlinked anything)
//   C   content index written, the batch's intents closed (one synced
//       state write)
// Recovery (recovery.h) finishes or undoes a batch cut short at any step.
// Not thread-safe: one committer per pass.
class Committer {
 public:
  // Unlinks in flight at once in step U (on ctx->pool): enough to keep a
  // device busy whose discards make each one wait.
  static constexpr size_t kUnlinkThreads = 16;

  Committer(PassContext* ctx, PassStats* stats);

  ~Committer();

  // Commits `batch` (its files are taken) through step M on the calling
  // thread. Steps B2 to C follow on a finisher thread while the next batch
  // starts, or at once with --concurrency 1. Files that fail alone are
  // counted, logged and left in staging. An error returned (this batch's,
  // or an earlier batch's finishing steps') means a barrier or the state
  // failed, and the pass must stop; recovery resolves what the batches
  // handed on left open. The failure records of the batch's files
  // (failure_log.h) are written afterwards.
  Status CommitBatch(std::vector<Prepared>* batch);
  // Waits until every batch has finished, and adds the finishing steps'
  // counts to the pass's. Returns the first error of those steps.
  Status Drain();

  // Thread-safe; for workers, on a file they prepared, so that the
  // committer's serial path does less: looks the content up in the index
  // and checks that the file's name is free in today's partition.
  // CommitBatch trusts the lookup only while it still knows every content
  // committed since, and a name taken meanwhile makes the file wait for the
  // next pass (the rename never replaces).
  void Preview(Prepared* p) const;

 private:
  enum class Action { kIngest, kQuarantine, kDelete, kKeep };
  struct Planned {
    Prepared* file = nullptr;
    Action action = Action::kIngest;
    std::string duplicate_of;  // path of the first ingest, for duplicates
    int original = -1;         // index in the plan when that ingest is in this batch
    std::string id;
    Intent intent;
    bool moved = false;
    File* dest = nullptr;  // the directory it moves into
    bool failed = false;
    // Why Move failed; OK with `failed` when the file changed and waits
    // for a later pass. Reported in plan order once every move is done.
    Status move_error;
    // Committed, but the source or the sidecar could not be removed: the
    // intent stays open and recovery finishes the job next pass.
    bool cleanup_left = false;

    const File& source_dir() const { return file->candidate.dir->file; }
  };

  // A batch on its way through the steps.
  struct Job {
    std::vector<Prepared> batch;
    std::vector<Planned> plan;  // points into `batch`
    int64_t now_ns = 0;
    bool any_moved = false;
    bool dirs_created = false;   // a warehouse directory was created for it
    uint64_t journal_batch = 0;  // its frame in the intent journal; 0: none
  };
  // Steps B1 to M, on the caller's thread.
  Status Start(Job* job);
  // Steps B2 to C, on the finisher thread (or the caller's, with one thread).
  Status Finish(Job* job);
  void FinisherLoop();
  Status FinishError();
  // Blocks until the finisher has taken every batch handed to it through
  // its steps (or skipped it after a failure).
  void WaitForFinisher();
  // Step I for the intents of `job`, emptying the journal first when it has
  // grown large and every batch in it is closed. Without `sync`, the
  // intents are durable only after a syncfs of the journal's filesystem.
  Status WriteIntents(Job* job, bool sync);
  // failures_ is shared by both halves.
  void RecordFailure(const StagingDir& dir, std::string_view name, const FileStat* st,
                     const Status& error, int64_t now_ns);
  void ClearFailure(const StagingDir& dir, std::string_view name);
  void FlushFailures();
  Status Plan(std::vector<Prepared>* batch, int64_t now_ns, std::vector<Planned>* plan);
  // The first ingest of `p`'s content before this batch ("" if none).
  Status FindContent(const Prepared& p, std::string* duplicate_of);
  // Picks a free name in `dest_rel` for `p`, honouring names already taken
  // by this batch.
  Status ChooseName(const std::string& dest_rel, const Prepared& p, std::string* name);
  Status DestDir(const std::string& rel, File** dir);
  Status Barrier(bool staging, bool warehouse);
  // Whether Barrier(staging, warehouse) syncs the filesystem `dev`, and so
  // makes durable whatever was written on it.
  bool BarrierCovers(uint64_t dev, bool staging, bool warehouse) const;
  // Step M for one file whose `dest` is set, in three parts, each
  // thread-safe and doing nothing for a file that failed: the last sets
  // `moved`. A failure sets `failed`, and `move_error` unless the file
  // merely changed.
  void CheckBeforeMove(Planned* p) const;
  void RenameIn(Planned* p) const;
  void CheckAfterMove(Planned* p) const;
  // Step M for the batch, on up to --concurrency threads.
  void MoveAll(std::vector<Planned>* plan);
  void UndoMoves(std::vector<Planned>* plan);
  void Fail(Planned* p, const Status& s);
  void ReportDryRun(const std::vector<Planned>& plan);

  PassContext* ctx_;
  PassStats* stats_;
  const size_t unlink_threads_;
  uint64_t next_id_ = 0;
  std::map<std::string, File> dest_dirs_;
  // Batches whose state write (C) has landed: a state lookup that read it
  // first sees every one of them. Preview stamps its lookups with it.
  std::atomic<uint64_t> generation_{0};
  // Batches through step M (the caller's thread only).
  uint64_t started_ = 0;
  // What the most recent batches through M moved, newest last: the
  // contents and the names a state lookup may have missed.
  // Compact, because kRecentBatches of them stay in memory: names as
  // 64-bit hashes (a collision only costs a stat), contents sorted.
  class RecentBatch {
   public:
    void Add(std::string_view dest_dir, std::string_view dest_name, bool ingested,
             std::string_view sha256);
    // Call once every file is added.
    void Seal();
    // False when no file was moved in as `dest_dir`/`name`; true when one
    // was, or (rarely) on a hash collision.
    bool MayHaveName(std::string_view dest_dir, std::string_view name) const;
    // The "<dest dir>/<name>" this batch ingested `sha256` as, or false.
    bool FindIngested(std::string_view sha256, std::string* dest_rel) const;

   private:
    struct Content {
      std::array<char, 64> sha256;
      uint32_t at, len;  // its "<dest dir>/<name>" in rels_
    };
    std::vector<uint64_t> names_;
    std::vector<Content> ingested_;
    std::string rels_;
  };
  // At most two batches are past M and not in the state, and a worker's
  // lookup waits at most a batch in the done queue before its batch is
  // planned: four reach back far enough that a 100,000-file pass never
  // looked a content up again. Older lookups are redone, never trusted.
  static constexpr size_t kRecentBatches = 4;
  std::deque<RecentBatch> recent_;
  // The batches through M that a lookup made when `seen` batches had landed
  // may have missed; false when recent_ no longer reaches back that far.
  bool Unseen(uint64_t seen, std::deque<RecentBatch>::const_iterator* first) const;
  // Names this batch has assigned, per destination directory.
  std::map<std::string, std::unordered_set<std::string>> taken_;
  bool dirs_created_ = false;
  // Hints for status and explain; never part of the steps above.
  std::mutex failures_mu_;
  FailureLog failures_;
  // Batches through M wait here for the finisher; with one slot, at most
  // two are past M and not yet in the state, well within recent_.
  BoundedQueue<std::unique_ptr<Job>> jobs_{1};
  std::thread finisher_;
  std::mutex finish_mu_;
  std::condition_variable finish_cv_;
  uint64_t handed_ = 0;         // jobs pushed to the finisher
  uint64_t finished_jobs_ = 0;  // jobs the finisher is done with
  Status finish_error_;
  PassStats finished_;  // the finishing steps' counts, added by Drain
};

}  // namespace ingest
