#include "pipeline.h"

#include <unistd.h>

#include <algorithm>

namespace ingest {

namespace {

// How long a partial batch may wait for more files before it commits, so a
// slow trickle of large files still commits steadily.
constexpr std::chrono::milliseconds kBatchLinger{500};

const File* TempDirFor(const PassContext& ctx) {
  return ctx.cross_fs && !ctx.options->dry_run ? &ctx.tmp_dir : nullptr;
}

bool KeepOwner() { return ::geteuid() == 0; }

}  // namespace

Pipeline::Pipeline(PassContext* ctx, PassStats* stats)
    : ctx_(ctx),
      stats_(stats),
      committer_(ctx, stats),
      batch_size_(static_cast<size_t>(ctx->options->batch_size)),
      threaded_(ctx->options->concurrency > 1),
      work_(static_cast<size_t>(ctx->options->concurrency) * 4),
      // Half a batch: the workers refill it while the committer commits,
      // and it gathers the next batch in two takes. A whole batch held
      // about 1 MiB more at the peak of a 10,000-file pass, for no speed.
      done_(static_cast<size_t>(ctx->options->batch_size) / 2 + 1) {
  if (!threaded_) {
    inline_preparer_ =
        std::make_unique<Preparer>(ctx->env, TempDirFor(*ctx), KeepOwner(), ctx->writers);
    return;
  }
  live_workers_ = ctx->options->concurrency;
  for (int i = 0; i < ctx->options->concurrency; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  committer_thread_ = std::thread([this] { CommitterLoop(); });
}

// A pipeline left without Finish (an early return) still joins its threads;
// there is no one left to report an error to.
Pipeline::~Pipeline() { (void)Finish(); }

void Pipeline::SetError(const Status& s) {
  std::lock_guard<std::mutex> lock(error_mu_);
  if (error_.ok()) error_ = s;
  failed_ = true;
}

bool Pipeline::Submit(Candidate candidate) {
  if (failed_) return false;
  if (threaded_) {
    ctx_->progress.queued.fetch_add(1, std::memory_order_relaxed);
    return work_.Push(std::move(candidate));
  }
  Prepared p;
  inline_preparer_->Prepare(candidate, &p);
  // As a worker would: the crash tests of the pipelined commit then take
  // the paths that trust a preview made before the last batches landed.
  if (ctx_->options->pipelined_commit) committer_.Preview(&p);
  pending_.push_back(std::move(p));
  stats_->queue_depth_peak = std::max<uint64_t>(stats_->queue_depth_peak, pending_.size());
  if (pending_.size() >= batch_size_) {
    Status s = CommitPending();
    if (!s.ok()) SetError(s);
  }
  return !failed_;
}

Status Pipeline::CommitPending() {
  if (pending_.empty()) return Status::OK();
  Status s = committer_.CommitBatch(&pending_);
  pending_.clear();
  return s;
}

void Pipeline::WorkerLoop() {
  Preparer preparer(ctx_->env, TempDirFor(*ctx_), KeepOwner(), ctx_->writers);
  for (;;) {
    bool closed = false;
    std::optional<Candidate> c = work_.Pop(std::chrono::milliseconds(200), &closed);
    if (closed) break;
    if (!c) continue;
    ctx_->progress.queued.fetch_sub(1, std::memory_order_relaxed);
    Prepared p;
    preparer.Prepare(*c, &p);
    committer_.Preview(&p);
    if (!done_.Push(std::move(p))) break;
  }
  if (--live_workers_ == 0) done_.Close();
}

void Pipeline::CommitterLoop() {
  auto oldest = std::chrono::steady_clock::now();
  for (;;) {
    bool closed = false;
    if (pending_.empty()) {
      // The first file starts the batch's clock.
      done_.PopUpTo(1, std::chrono::milliseconds(100), &pending_, &closed);
      oldest = std::chrono::steady_clock::now();
    } else {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          oldest + kBatchLinger - std::chrono::steady_clock::now());
      done_.PopUpTo(batch_size_ - pending_.size(), std::max(left, std::chrono::milliseconds(0)),
                    &pending_, &closed);
    }
    const bool linger_over = std::chrono::steady_clock::now() - oldest >= kBatchLinger;
    if (!pending_.empty() && (closed || pending_.size() >= batch_size_ || linger_over)) {
      Status s = failed_ ? Status::OK() : CommitPending();
      pending_.clear();
      if (!s.ok()) {
        SetError(s);
        work_.Close();
      }
    }
    if (closed) break;
  }
}

Status Pipeline::Finish() {
  if (finished_) return error_;
  finished_ = true;
  if (threaded_) {
    work_.Close();
    for (std::thread& t : workers_) t.join();
    committer_thread_.join();
    stats_->queue_depth_peak = std::max<uint64_t>(stats_->queue_depth_peak, work_.peak());
  } else if (!failed_) {
    Status s = CommitPending();
    if (!s.ok()) SetError(s);
  }
  Status s = committer_.Drain();
  if (!s.ok()) SetError(s);
  std::lock_guard<std::mutex> lock(error_mu_);
  return error_;
}

}  // namespace ingest
