#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bounded_queue.h"
#include "failure_log.h"
#include "move.h"
#include "pass_context.h"
#include "plan.h"
#include "prepare.h"
#include "recent_batches.h"

namespace ingest {

// Commits batches of prepared files with the protocol doc/design.md
// describes, each step a function below:
//   P   plan: what each file's commit does and where it goes (plan.h)
//   B1  barrier: hashed sources and temp copies durable
//   I   intents written (one append to the intent journal, made durable by
//       B1's syncfs when the journal shares a filesystem it syncs, else by
//       its own fdatasync)
//   M   moves into the warehouse (move.h)
//   B2  barrier: moves durable
//   R   manifest records appended and synced
//   U   sources of copies, deleted duplicates and .ok sidecars unlinked
//   B3  barrier (only when U unlinked anything)
//   C   content index written, the batch's intents closed (one synced
//       state write)
// Recovery (recovery.h) finishes or undoes a batch cut short at any step;
// the effects both carry out are in intent_effects.h.
// Not thread-safe: one committer per pass.
class Committer {
 public:
  // File operations in flight at once in steps K and U (on ctx->pool):
  // enough to keep a device busy whose discards make each unlink wait, or
  // a network filesystem whose every create is a round trip.
  static constexpr size_t kIoThreads = 16;

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

  // Thread-safe; for workers: see Planner::Preview.
  void Preview(Prepared* p) const { planner_.Preview(p); }

 private:
  // A batch on its way through the steps.
  struct Job {
    std::vector<Prepared> batch;
    std::vector<Planned> plan;  // points into `batch`
    int64_t now_ns = 0;
    bool any_moved = false;
    bool dirs_created = false;   // a warehouse directory was created for it
    uint64_t journal_batch = 0;  // its frame in the intent journal; 0: none
  };

  // Steps P to M (with K), on the caller's thread.
  Status Start(Job* job);
  // B1 and I.
  Status WriteIntentsDurably(Job* job);
  // Step I for the intents of `job`, emptying the journal first when it has
  // grown large and every batch in it is closed. Without `sync`, the
  // intents are durable only after a syncfs of the journal's filesystem.
  Status WriteIntents(Job* job, bool sync);
  // K: the content claims of the batch's ingests.
  void TakeClaims(Job* job);
  // M, then the moves' failures reported in plan order, and the claims of
  // the ingests that did not move released.
  void Move(Job* job);
  // Releases the claims of the batch's ingests that are not (or no longer)
  // in the warehouse.
  void ReleaseUnmovedClaims(Job* job);
  // Later batches see what this one moved before its state write lands.
  void RememberMoved(const Job& job);

  // Steps B2 to C, on the finisher thread (or the caller's, with one thread).
  Status Finish(Job* job);
  Status MakeMovesDurable(Job* job);  // B2
  Status AppendManifest(Job* job);    // R
  Status UnlinkRedundant(Job* job);   // U and B3
  Status WriteState(Job* job);        // C
  void ReportCommitted(const Job& job);

  Status Barrier(bool staging, bool warehouse);
  // Whether Barrier(staging, warehouse) syncs the filesystem `dev`, and so
  // makes durable whatever was written on it.
  bool BarrierCovers(uint64_t dev, bool staging, bool warehouse) const;

  // The finisher thread.
  void FinisherLoop();
  Status FinishError();
  // Blocks until the finisher has taken every batch handed to it through
  // its steps (or skipped it after a failure).
  void WaitForFinisher();

  PassContext* ctx_;
  PassStats* stats_;
  // Threads for the loops of independent file operations (claims, unlinks).
  const size_t io_threads_;
  // Hints for status and explain; never part of the steps above.
  SharedFailureLog failures_;
  RecentBatches recent_;
  Planner planner_;
  Mover mover_;
  // Batches through M wait here for the finisher; with one slot, at most
  // three are past M and not yet in the state (one finishing, one here,
  // one waiting to be put here), within recent_.
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
