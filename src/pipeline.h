#pragma once

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "bounded_queue.h"
#include "commit.h"
#include "prepare.h"

namespace ingest {

// Carries complete candidates through hashing (by `concurrency` workers) to
// the committer in batches. The scanner calls Submit, which blocks once it
// is a bounded number of files ahead of the workers. With concurrency 1
// everything runs on the caller's thread, in scan order, so tests and crash
// enumeration see one deterministic sequence of operations.
class Pipeline {
 public:
  Pipeline(PassContext* ctx, PassStats* stats);
  ~Pipeline();

  // False once the pipeline has failed; stop submitting.
  bool Submit(Candidate candidate);
  // Drains, commits the last batch and joins the threads. Returns the first
  // error that stopped the pipeline.
  Status Finish();

 private:
  void WorkerLoop();
  void CommitterLoop();
  Status CommitPending();
  void SetError(const Status& s);

  PassContext* ctx_;
  PassStats* stats_;
  Committer committer_;
  const size_t batch_size_;
  const bool threaded_;
  std::unique_ptr<Preparer> inline_preparer_;
  std::vector<Prepared> pending_;

  BoundedQueue<Candidate> work_;
  BoundedQueue<Prepared> done_;
  std::vector<std::thread> workers_;
  std::thread committer_thread_;
  std::atomic<int> live_workers_{0};
  std::atomic<bool> failed_{false};
  std::mutex error_mu_;
  Status error_;
  bool finished_ = false;
};

}  // namespace ingest
