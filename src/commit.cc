#include "commit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "dry_run.h"
#include "intent_effects.h"
#include "intent_journal.h"
#include "logging.h"
#include "thread_pool.h"

namespace ingest {

Committer::Committer(PassContext* ctx, PassStats* stats)
    : ctx_(ctx),
      stats_(stats),
      // One thread (the committer's) keeps a pass with --concurrency 1 in
      // one deterministic order of operations.
      io_threads_(ctx->options->concurrency > 1 ? kIoThreads : 1),
      failures_(ctx->state, !ctx->options->dry_run),
      planner_(ctx, stats, &recent_, &failures_),
      mover_(ctx) {
  // With one thread, a pass keeps one deterministic order of operations.
  const bool pipelined = ctx->options->concurrency > 1 || ctx->options->pipelined_commit;
  if (pipelined && !ctx->options->dry_run) {
    finisher_ = std::thread([this] { FinisherLoop(); });
  }
}

Committer::~Committer() {
  if (finisher_.joinable()) {
    jobs_.Close();
    finisher_.join();
  }
}

Status Committer::CommitBatch(std::vector<Prepared>* batch) {
  auto job = std::make_unique<Job>();
  job->batch = std::move(*batch);
  batch->clear();
  const bool hand_on = finisher_.joinable();
  Status s = FinishError();
  if (s.ok()) s = Start(job.get());
  if (s.ok() && !ctx_->options->dry_run && !hand_on) s = Finish(job.get());
  // Only now, after the steps' own writes, so a hint never sits between
  // them.
  failures_.Flush();
  if (s.ok() && !ctx_->options->dry_run && hand_on) {
    {
      std::lock_guard<std::mutex> lock(finish_mu_);
      ++handed_;
    }
    if (!jobs_.Push(std::move(job))) {
      std::lock_guard<std::mutex> lock(finish_mu_);
      --handed_;
    }
  }
  return s;
}

Status Committer::Drain() {
  if (finisher_.joinable()) {
    jobs_.Close();
    finisher_.join();
  }
  stats_->failed += finished_.failed;
  stats_->files_ingested += finished_.files_ingested;
  stats_->bytes_ingested += finished_.bytes_ingested;
  stats_->duplicates += finished_.duplicates;
  finished_ = PassStats();
  Status s = FinishError();
  // Between passes the journal holds nothing but closed batches: empty it.
  if (ctx_->journal != nullptr) {
    Status r = ctx_->journal->ResetIfClosed(1);
    if (s.ok()) s = r;
  }
  return s;
}

Status Committer::Start(Job* job) {
  std::vector<Prepared>* batch = &job->batch;
  job->now_ns = ctx_->clock->NowNs();
  // Oldest arrival first, so that of two copies of one content the one
  // that landed first is the original, whatever order the workers finished.
  std::sort(batch->begin(), batch->end(), [](const Prepared& a, const Prepared& b) {
    return std::tie(a.candidate.st.ctime_ns, a.candidate.name) <
           std::tie(b.candidate.st.ctime_ns, b.candidate.name);
  });
  Status s = planner_.Plan(batch, job->now_ns, &job->plan);
  if (!s.ok()) return s;
  if (ctx_->options->dry_run) {
    ReportDryRun(*ctx_, job->plan, stats_);
    return Status::OK();
  }
  s = WriteIntentsDurably(job);
  if (!s.ok()) {
    // Nothing moved: the temp copies belong to no commit. One left behind
    // is harmless: recovery empties the temp directory once no commit is
    // left open.
    for (const Planned& p : job->plan) {
      if (p.intent.cross_fs()) (void)ctx_->env->Unlink(ctx_->tmp_dir, p.intent.tmp_name);
    }
    return s;
  }
  TakeClaims(job);
  Move(job);
  job->dirs_created = planner_.TakeDirsCreated();
  RememberMoved(*job);
  return Status::OK();
}

// B1 and I, both before any move: B1 makes durable what the intents claim
// (upstream writers need not have synced what they dropped, and the copies
// were written without fsync), I the intents. When the journal is on a
// filesystem B1 syncs anyway, its append needs no sync of its own;
// otherwise it syncs after B1.
Status Committer::WriteIntentsDurably(Job* job) {
  const bool b1_warehouse = ctx_->cross_fs;
  const bool b1_covers_journal =
      BarrierCovers(ctx_->journal->dev(), /*staging=*/true, b1_warehouse);
  Status s;
  if (b1_covers_journal) s = WriteIntents(job, /*sync=*/false);
  if (s.ok()) s = Barrier(/*staging=*/true, b1_warehouse);
  if (s.ok() && !b1_covers_journal) s = WriteIntents(job, /*sync=*/true);
  return s;
}

Status Committer::WriteIntents(Job* job, bool sync) {
  std::vector<std::pair<std::string_view, const Intent*>> intents;
  for (const Planned& p : job->plan) {
    if (!p.failed && p.action != Action::kKeep) intents.emplace_back(p.id, &p.intent);
  }
  if (intents.empty()) return Status::OK();
  IntentJournal* journal = ctx_->journal;
  if (journal->bytes() >= journal->reset_bytes()) {
    // Emptying the file needs every batch in it closed: one wait per
    // reset_bytes() of intents.
    WaitForFinisher();
    Status s = FinishError();
    if (s.ok()) s = journal->ResetIfClosed(journal->reset_bytes());
    if (!s.ok()) return s;
  }
  return journal->Append(intents, sync, &job->journal_batch);
}

// K: after I, so that recovery knows of every claim it may have to
// release; before M, so that no file moves without its content claimed;
// made durable by B2 with the moves, before any manifest record. One
// append to the claim log takes the batch's claims. A claim another commit
// holds makes the file wait: the next pass finds that claim and decides
// then.
void Committer::TakeClaims(Job* job) {
  if (ctx_->claims == nullptr) return;
  std::vector<Planned>& plan = job->plan;
  std::vector<Planned*> todo;
  std::vector<ClaimRequest> requests;
  todo.reserve(plan.size());
  requests.reserve(plan.size());
  for (Planned& p : plan) {
    if (p.failed || p.action != Action::kIngest) continue;
    todo.push_back(&p);
    // This instance's own older claim gives way to any take of its own
    // (TakeWins); another instance's is replaced only when named.
    requests.push_back({ClaimOf(*ctx_, p.id, p.intent), p.stale_claim});
  }
  std::vector<std::optional<Claim>> holders;
  const Status s = ctx_->claims->Take(requests, &holders, /*sync=*/false);
  for (size_t k = 0; k < todo.size(); ++k) {
    Planned& p = *todo[k];
    if (!s.ok()) {
      // The append may have landed before the error (a failed sync): the
      // release after M covers it.
      p.claimed = true;
      planner_.Fail(&p, Status::IOError("cannot claim the content of " +
                                            SourcePath(*ctx_, p.intent) + ": " + s.message(),
                                        s.err()));
    } else if (holders[k]) {
      p.failed = true;
      ++stats_->deferred;
      const std::string source = SourcePath(*ctx_, p.intent);
      LogEvent(spdlog::level::info, "deferred")
          .Str("path", source)
          .Str("source", source)
          .Str("sha256", p.intent.sha256)
          .Str("claimed_by", holders[k]->owner)
          .Log("{}: another commit (instance {}) claimed its content first; it waits in staging",
               source, holders[k]->owner);
    } else {
      p.claimed = true;
    }
  }
}

// M: each move is atomic; recovery tells done from not done by the inode
// at the destination.
void Committer::Move(Job* job) {
  std::vector<Planned>& plan = job->plan;
  // Files that failed or were deferred before M are counted already.
  std::vector<bool> counted(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) counted[i] = plan[i].failed;
  mover_.MoveAll(&plan);
  ReleaseUnmovedClaims(job);
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (counted[i] || !p.moves() || (!p.failed && p.move_error.ok())) continue;
    if (p.moved) {
      // Moved by link(), but its old name stays: the next pass removes it.
      ++stats_->failed;
      LogEvent(spdlog::level::err, "failed")
          .Str("path", DestPath(*ctx_, p.intent))
          .Str("source", SourcePath(*ctx_, p.intent))
          .Str("sha256", p.intent.sha256)
          .Num("bytes", p.intent.size)
          .Str("error", p.move_error.ToString())
          .Log("{}; the next pass removes it", p.move_error.ToString());
      const Candidate& c = p.file->candidate;
      if (p.intent_stays_open) failures_.Record(*c.dir, c.name, &c.st, p.move_error, job->now_ns);
    } else if (p.move_error.ok()) {
      ++stats_->deferred;
    } else if (p.move_error.err() == EEXIST) {
      // Another process took the name after the planner found it free (a
      // stat, or the listing of a large pass): the next pass picks another.
      ++stats_->deferred;
      const std::string source = SourcePath(*ctx_, p.intent);
      LogEvent(spdlog::level::info, "deferred")
          .Str("path", source)
          .Str("source", source)
          .Str("reason", "name taken meanwhile")
          .Log(
              "{}: its name {} was taken in the warehouse after it was checked; it waits for the "
              "next pass",
              source, DestPath(*ctx_, p.intent));
    } else {
      planner_.Fail(&p, p.move_error);
    }
  }
  for (Planned& p : plan) {
    job->any_moved |= p.moved;
    // A deleted duplicate's original must have moved first, as for a
    // quarantined one.
    if (!p.failed && p.action == Action::kDelete && p.original >= 0 && !plan[p.original].moved) {
      p.failed = true;
      ++stats_->deferred;
    }
  }
}

// Nothing of these files is in the warehouse, so no other instance need
// wait for them. A claim left behind by a failed release is released by
// recovery when the intent stays open, or else taken again by this
// instance's next delivery of the content (TakeWins).
void Committer::ReleaseUnmovedClaims(Job* job) {
  std::vector<Claim> claims;
  for (Planned& p : job->plan) {
    if (!p.claimed || p.moved) continue;
    claims.push_back(ClaimOf(*ctx_, p.id, p.intent));
    p.claimed = false;
  }
  if (claims.empty()) return;
  Status s = ctx_->claims->Release(claims, /*sync=*/false);
  if (!s.ok()) spdlog::warn("{}", s.ToString());
}

// Later batches must see the contents and names this one moved before its
// manifest records and state write land. Should those fail, the pass
// stops, and recovery resolves each intent on its own.
void Committer::RememberMoved(const Job& job) {
  RecentBatch recent;
  for (const Planned& p : job.plan) {
    if (p.failed || !p.moved) continue;
    recent.Add(p.intent.dest_dir, p.intent.dest_name, p.action == Action::kIngest, p.intent.sha256);
  }
  recent.Seal();
  recent_.Started(std::move(recent));
}

Status Committer::Finish(Job* job) {
  Status s = MakeMovesDurable(job);
  if (s.ok()) s = AppendManifest(job);
  if (s.ok()) s = UnlinkRedundant(job);
  if (s.ok()) s = WriteState(job);
  if (s.ok()) ReportCommitted(*job);
  return s;
}

// B2: the moves (and any new partition directory) are durable before a
// manifest record points at them.
Status Committer::MakeMovesDurable(Job* job) {
  if (!job->any_moved && !job->dirs_created) return Status::OK();
  Status s = Barrier(/*staging=*/!ctx_->cross_fs, /*warehouse=*/true);
  if (!s.ok()) {
    mover_.UndoMoves(&job->plan);
    ReleaseUnmovedClaims(job);
  }
  return s;
}

// R: manifest records, then one fdatasync.
Status Committer::AppendManifest(Job* job) {
  std::map<std::string, std::string> lines;  // hour dir -> lines
  for (const Planned& p : job->plan) {
    if (p.moved && p.action == Action::kIngest) {
      lines[p.intent.manifest_path] += p.intent.manifest_line;
    }
  }
  Status s;
  for (const auto& [hour, text] : lines) {
    s = ctx_->manifest->Append(hour, text);
    if (!s.ok()) break;
  }
  if (s.ok() && !lines.empty()) s = ctx_->manifest->Sync();
  if (!s.ok()) {
    // Not durable, so not done: take the records back and return the files
    // to staging. The intents stay; recovery finds nothing at the
    // destinations and drops them.
    ctx_->manifest->Rollback();
    mover_.UndoMoves(&job->plan);
    ReleaseUnmovedClaims(job);
  }
  return s;
}

// U: unlink what the commit makes redundant (intent_effects.h), then B3.
// An unlink can wait on the device (online discard frees blocks
// synchronously), so with workers the unlinks run in parallel; results are
// reported in plan order.
Status Committer::UnlinkRedundant(Job* job) {
  Env* env = ctx_->env;
  std::vector<Planned>& plan = job->plan;
  struct Unlinked {
    std::optional<Status> source, temp, sidecar;  // empty: nothing to unlink
  };
  std::vector<Unlinked> done(plan.size());
  auto done_with_source = [](const Planned& p) {
    return p.moved || p.action == Action::kDelete;  // kKeep leaves the source in place
  };
  // The files with something to unlink: none, for a same-filesystem batch
  // without sidecars or deleted duplicates, which then starts no thread.
  std::vector<size_t> todo;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Planned& p = plan[i];
    const Intent& in = p.intent;
    if (p.failed) continue;
    if ((done_with_source(p) &&
         (in.cross_fs() || p.action == Action::kDelete || !in.sidecar_name.empty())) ||
        (in.cross_fs() && !p.moved)) {
      todo.push_back(i);
    }
  }
  ctx_->pool->ParallelFor(todo.size(), io_threads_, [&](size_t k) {
    const size_t i = todo[k];
    const Planned& p = plan[i];
    const Intent& in = p.intent;
    if (done_with_source(p)) done[i].source = UnlinkRedundantSource(env, p.source_dir(), in);
    // A leftover temp copy is harmless (recovery empties the temp dir once
    // no commit is left open), but an I/O error on the warehouse is still
    // worth an exit 1.
    if (in.cross_fs() && !p.moved) done[i].temp = env->Unlink(ctx_->tmp_dir, in.tmp_name);
    if (done_with_source(p)) done[i].sidecar = UnlinkSidecar(env, p.source_dir(), in);
  });
  bool unlinked = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (p.failed) continue;
    const Unlinked& d = done[i];
    const bool sidecar_gone = d.sidecar && d.sidecar->IsNotFound();
    for (const Status* r :
         {d.source ? &*d.source : nullptr, d.sidecar && !sidecar_gone ? &*d.sidecar : nullptr}) {
      if (r == nullptr) continue;
      if (r->ok()) {
        unlinked = true;
        continue;
      }
      p.intent_stays_open = true;
      ++finished_.failed;
      LogEvent(spdlog::level::err, "failed")
          .Str("path", DestPath(*ctx_, p.intent))
          .Str("source", SourcePath(*ctx_, p.intent))
          .Str("sha256", p.intent.sha256)
          .Num("bytes", p.intent.size)
          .Str("error", r->ToString())
          .Log("{}; the next pass removes it", r->ToString());
      failures_.Record(*p.file->candidate.dir, p.file->candidate.name, &p.file->st, *r,
                       job->now_ns);
    }
    if (d.temp && !d.temp->ok() && !d.temp->IsNotFound()) {
      ++finished_.failed;
      spdlog::error("{}", d.temp->ToString());
    }
  }
  if (!unlinked) return Status::OK();
  return Barrier(/*staging=*/true, /*warehouse=*/false);
}

// C: the content index and the end of the intents, in one synced write.
Status Committer::WriteState(Job* job) {
  std::vector<StateWrite> writes;
  for (const Planned& p : job->plan) {
    const Intent& in = p.intent;
    const Prepared& f = *p.file;
    // Closing the batch closes every intent in it: one that is left open
    // moves into the state, where recovery finds it next pass.
    if (p.action != Action::kKeep && p.intent_stays_open) {
      writes.push_back({keys::Intent(p.id), EncodeIntent(p.intent)});
    }
    if (p.failed) continue;
    if (p.action == Action::kKeep) {
      // Remembered by its tuple, so later passes skip it unhashed.
      Snapshot snap{f.st.dev,      f.st.ino,    f.st.size, f.st.mtime_ns,
                    f.st.ctime_ns, job->now_ns, in.sha256};
      writes.push_back({in.snapshot_key, EncodeSnapshot(snap)});
    } else if (f.candidate.has_snapshot) {
      writes.push_back({in.snapshot_key, std::nullopt});
    }
    if (p.action == Action::kIngest && p.moved) {
      AddContentWrites(*ctx_, p.id, in, job->now_ns, /*queue_hook=*/true, &writes);
    }
  }
  if (job->journal_batch != 0) ctx_->journal->AddCloseWrite(job->journal_batch, &writes);
  if (!writes.empty()) {
    Status s = ctx_->state->Apply(writes, /*sync=*/true);
    if (!s.ok()) return s;
  }
  if (job->journal_batch != 0) ctx_->journal->Closed(job->journal_batch);
  // Lookups from now on see this batch in the state.
  recent_.Landed();
  return Status::OK();
}

void Committer::ReportCommitted(const Job& job) {
  for (const Planned& p : job.plan) {
    if (p.failed) continue;
    // Left for recovery: its failure stays on record until that is done.
    if (!p.intent_stays_open) failures_.Clear(*p.file->candidate.dir, p.file->candidate.name);
    const std::string source = SourcePath(*ctx_, p.intent);
    if (p.action == Action::kIngest) {
      ++finished_.files_ingested;
      finished_.bytes_ingested += p.intent.size;
      ctx_->progress.files.fetch_add(1, std::memory_order_relaxed);
      ctx_->progress.bytes.fetch_add(p.intent.size, std::memory_order_relaxed);
      const std::string dest = DestPath(*ctx_, p.intent);
      LogEvent(spdlog::level::info, "ingested")
          .Str("path", dest)
          .Str("source", source)
          .Str("sha256", p.intent.sha256)
          .Num("bytes", p.intent.size)
          .Log("ingested {} -> {} ({} bytes, sha256 {})", source, dest, p.intent.size,
               p.intent.sha256);
    } else {
      ++finished_.duplicates;
      LogEvent event(spdlog::level::info, "duplicate");
      // `path`: where the file is now; a deleted one is nowhere.
      if (p.action == Action::kQuarantine) event.Str("path", DestPath(*ctx_, p.intent));
      if (p.action == Action::kKeep) event.Str("path", source);
      event.Str("source", source)
          .Str("sha256", p.intent.sha256)
          .Num("bytes", p.intent.size)
          .Str("duplicate_of", p.duplicate_of)
          .Str("action", p.action == Action::kQuarantine ? "quarantine"
                         : p.action == Action::kDelete   ? "delete"
                                                         : "keep")
          .Log("duplicate of {}: {} {}", p.duplicate_of, source,
               p.action == Action::kQuarantine ? "quarantined"
               : p.action == Action::kDelete   ? "deleted"
                                               : "kept in staging");
    }
  }
}

Status Committer::Barrier(bool staging, bool warehouse) {
  if (staging) {
    Status s = ctx_->env->SyncFs(ctx_->input);
    if (!s.ok()) return s;
  }
  // One syncfs covers both roots when they share a filesystem.
  if (warehouse && (ctx_->cross_fs || !staging)) return ctx_->env->SyncFs(ctx_->warehouse);
  return Status::OK();
}

bool Committer::BarrierCovers(uint64_t dev, bool staging, bool warehouse) const {
  return (staging && dev == ctx_->input_st.dev) || (warehouse && dev == ctx_->warehouse_dev);
}

void Committer::FinisherLoop() {
  for (;;) {
    bool closed = false;
    std::optional<std::unique_ptr<Job>> job = jobs_.Pop(std::chrono::milliseconds(200), &closed);
    if (closed) break;
    if (!job) continue;
    // After a failure the pass stops; recovery resolves the intents of the
    // batches handed on since.
    Status s = FinishError();
    if (s.ok()) {
      s = Finish(job->get());
      failures_.Flush();
    }
    std::lock_guard<std::mutex> lock(finish_mu_);
    if (finish_error_.ok()) finish_error_ = s;
    ++finished_jobs_;
    finish_cv_.notify_all();
  }
}

Status Committer::FinishError() {
  std::lock_guard<std::mutex> lock(finish_mu_);
  return finish_error_;
}

void Committer::WaitForFinisher() {
  std::unique_lock<std::mutex> lock(finish_mu_);
  finish_cv_.wait(lock, [&] { return finished_jobs_ == handed_; });
}

}  // namespace ingest
