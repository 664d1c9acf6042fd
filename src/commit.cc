#include "commit.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <tuple>

#include "fs_util.h"
#include "hooks.h"
#include "intent_journal.h"
#include "name_escape.h"
#include "sidecar.h"
#include "thread_pool.h"
#include "warehouse.h"

namespace ingest {

namespace {

std::string IntentId(int64_t now_ns, uint64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx-%06llx", static_cast<unsigned long long>(now_ns),
                static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

Committer::Committer(PassContext* ctx, PassStats* stats)
    : ctx_(ctx),
      stats_(stats),
      // One thread (the committer's) keeps a pass with --concurrency 1 in
      // one deterministic order of operations.
      unlink_threads_(ctx->options->concurrency > 1 ? kUnlinkThreads : 1),
      failures_(ctx->state, !ctx->options->dry_run) {
  // With one thread, a pass keeps one deterministic order of operations.
  if (ctx->options->concurrency > 1 && !ctx->options->dry_run) {
    finisher_ = std::thread([this] { FinisherLoop(); });
  }
}

Committer::~Committer() {
  if (finisher_.joinable()) {
    jobs_.Close();
    finisher_.join();
  }
}

void Committer::RecordFailure(const StagingDir& dir, std::string_view name, const FileStat* st,
                              const Status& error, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(failures_mu_);
  failures_.Record(dir, name, st, error, now_ns);
}

void Committer::ClearFailure(const StagingDir& dir, std::string_view name) {
  std::lock_guard<std::mutex> lock(failures_mu_);
  failures_.Clear(dir, name);
}

void Committer::FlushFailures() {
  std::lock_guard<std::mutex> lock(failures_mu_);
  failures_.Flush();
}

Status Committer::FinishError() {
  std::lock_guard<std::mutex> lock(finish_mu_);
  return finish_error_;
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
      FlushFailures();
    }
    std::lock_guard<std::mutex> lock(finish_mu_);
    if (finish_error_.ok()) finish_error_ = s;
    ++finished_jobs_;
    finish_cv_.notify_all();
  }
}

void Committer::WaitForFinisher() {
  std::unique_lock<std::mutex> lock(finish_mu_);
  finish_cv_.wait(lock, [&] { return finished_jobs_ == handed_; });
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

Status Committer::DestDir(const std::string& rel, File** dir) {
  auto it = dest_dirs_.find(rel);
  if (it == dest_dirs_.end()) {
    File f;
    Status s;
    if (ctx_->options->dry_run) {
      s = ctx_->warehouse.isValid() ? OpenDirs(ctx_->env, ctx_->warehouse, rel, &f)
                                    : Status::NotFound(rel);
      if (s.IsNotFound()) {
        *dir = nullptr;
        return Status::OK();
      }
    } else {
      bool created = false;
      s = OpenOrCreateDirs(ctx_->env, ctx_->warehouse, rel, &f, &created);
      dirs_created_ |= created;
    }
    if (!s.ok()) return s;
    it = dest_dirs_.emplace(rel, std::move(f)).first;
  }
  *dir = &it->second;
  return Status::OK();
}

Status Committer::ChooseName(const std::string& dest_rel, const Prepared& p, std::string* name) {
  File* dir = nullptr;
  Status s = DestDir(dest_rel, &dir);
  if (!s.ok()) return s;
  std::unordered_set<std::string>& taken = taken_[dest_rel];
  const std::string& original = p.candidate.name;
  // The name was free when the worker looked; it still is unless this
  // batch or one committed since took it.
  std::deque<RecentBatch>::const_iterator since;
  if (p.preview.done && p.preview.name_free && p.preview.dest_rel == dest_rel &&
      Unseen(p.preview.generation, &since) &&
      std::none_of(since, recent_.cend(),
                   [&](const RecentBatch& b) { return b.MayHaveName(dest_rel, original); }) &&
      taken.insert(original).second) {
    *name = original;
    return Status::OK();
  }
  for (const std::string& candidate :
       {original, CollisionName(original, p.sha256, 12), CollisionName(original, p.sha256, 64)}) {
    if (taken.count(candidate)) continue;
    FileStat st;
    Status exists = dir == nullptr ? Status::NotFound("") : ctx_->env->StatAt(*dir, candidate, &st);
    if (exists.IsNotFound()) {
      taken.insert(candidate);
      *name = candidate;
      return Status::OK();
    }
    if (!exists.ok()) return exists;
  }
  return Status::IOError("no free name for " + p.candidate.dir->file.Child(original) + " in " +
                         JoinPath(ctx_->warehouse.path(), dest_rel));
}

void Committer::Preview(Prepared* p) const {
  if (p->outcome != Prepared::Outcome::kReady || ctx_->options->dry_run) return;
  CommitPreview& v = p->preview;
  // Read before the lookup: a batch that commits meanwhile counts as after.
  v.generation = generation_.load(std::memory_order_acquire);
  std::string value;
  Status s = ctx_->state->Get(keys::Content(p->sha256), &value);
  ContentRecord rec;
  if (s.ok() && DecodeContentRecord(value, &rec)) {
    v.duplicate_of = rec.path;
  } else if (!s.IsNotFound()) {
    return;  // the committer looks again and reports it
  }
  v.done = true;
  if (!v.duplicate_of.empty()) return;
  v.dest_rel = PartitionDir(UtcTime(ctx_->clock->NowNs()));
  FileStat st;
  v.name_free =
      ctx_->env->StatAt(ctx_->warehouse, JoinPath(v.dest_rel, p->candidate.name), &st).IsNotFound();
}

namespace {

uint64_t NameHash(std::string_view dir, std::string_view name) {
  const std::hash<std::string_view> h;
  return h(dir) ^ (h(name) * 0x9E3779B97F4A7C15ull);
}

std::array<char, 64> ShaKey(std::string_view sha256) {
  std::array<char, 64> key{};
  std::memcpy(key.data(), sha256.data(), std::min(sha256.size(), key.size()));
  return key;
}

}  // namespace

void Committer::RecentBatch::Add(std::string_view dest_dir, std::string_view dest_name,
                                 bool ingested, std::string_view sha256) {
  names_.push_back(NameHash(dest_dir, dest_name));
  if (!ingested) return;
  const auto at = static_cast<uint32_t>(rels_.size());
  if (!dest_dir.empty()) rels_.append(dest_dir).append("/");
  rels_.append(dest_name);
  ingested_.push_back({ShaKey(sha256), at, static_cast<uint32_t>(rels_.size() - at)});
}

void Committer::RecentBatch::Seal() {
  std::sort(names_.begin(), names_.end());
  std::sort(ingested_.begin(), ingested_.end(),
            [](const Content& a, const Content& b) { return a.sha256 < b.sha256; });
  names_.shrink_to_fit();
  ingested_.shrink_to_fit();
  rels_.shrink_to_fit();
}

bool Committer::RecentBatch::MayHaveName(std::string_view dest_dir, std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), NameHash(dest_dir, name));
}

bool Committer::RecentBatch::FindIngested(std::string_view sha256, std::string* dest_rel) const {
  const std::array<char, 64> key = ShaKey(sha256);
  auto it = std::lower_bound(
      ingested_.begin(), ingested_.end(), key,
      [](const Content& c, const std::array<char, 64>& k) { return c.sha256 < k; });
  if (it == ingested_.end() || it->sha256 != key) return false;
  dest_rel->assign(rels_, it->at, it->len);
  return true;
}

bool Committer::Unseen(uint64_t seen, std::deque<RecentBatch>::const_iterator* first) const {
  const uint64_t missed = started_ - seen;
  if (missed > recent_.size()) return false;
  *first = recent_.cend() - static_cast<std::ptrdiff_t>(missed);
  return true;
}

Status Committer::FindContent(const Prepared& p, std::string* duplicate_of) {
  duplicate_of->clear();
  std::deque<RecentBatch>::const_iterator since;
  if (!p.preview.done || !Unseen(p.preview.generation, &since)) {
    // Read before the lookup, as Preview does.
    const uint64_t seen = generation_.load(std::memory_order_acquire);
    std::string value;
    Status s = ctx_->state->Get(keys::Content(p.sha256), &value);
    if (s.ok()) {
      ContentRecord rec;
      if (!DecodeContentRecord(value, &rec)) {
        return Status::Corruption("state: undecodable content record for " + p.sha256);
      }
      *duplicate_of = rec.path;
      return Status::OK();
    }
    if (!s.IsNotFound()) return s;
    // Batches not yet in the state are at most those handed to the
    // finisher, always within recent_.
    if (!Unseen(seen, &since)) return Status::IOError("commit: lost track of recent batches");
  } else if (!p.preview.duplicate_of.empty()) {
    *duplicate_of = p.preview.duplicate_of;
    return Status::OK();
  }
  // The lookup may have missed what the batches since ingested.
  std::string rel;
  for (auto it = since; it != recent_.cend(); ++it) {
    if (it->FindIngested(p.sha256, &rel)) {
      *duplicate_of = JoinPath(ctx_->warehouse.path(), rel);
      return Status::OK();
    }
  }
  return Status::OK();
}

Status Committer::Plan(std::vector<Prepared>* batch, int64_t now_ns, std::vector<Planned>* plan) {
  const UtcTime t(now_ns);
  const std::string partition_dir = PartitionDir(t);
  const std::string duplicates_dir = DuplicatesDir(t);
  const Options& opt = *ctx_->options;
  // sha256 -> index in *plan of this batch's ingest of that content.
  std::unordered_map<std::string, int> batch_content;
  // The decisions, in order, on this thread.
  for (Prepared& p : *batch) {
    if (p.outcome == Prepared::Outcome::kChanged) {
      ++stats_->deferred;
      spdlog::debug("changed while being read, retrying next pass: {}",
                    p.candidate.dir->file.Child(p.candidate.name));
      continue;
    }
    if (p.outcome == Prepared::Outcome::kFailed) {
      ++stats_->failed;
      spdlog::error("{}", p.error.ToString());
      RecordFailure(*p.candidate.dir, p.candidate.name, &p.candidate.st, p.error, now_ns);
      continue;
    }
    Planned pl;
    pl.file = &p;
    Status s = FindContent(p, &pl.duplicate_of);
    if (!s.ok()) return s;
    auto it = batch_content.find(p.sha256);
    if (pl.duplicate_of.empty() && it != batch_content.end()) {
      pl.original = it->second;
      const Intent& first = (*plan)[pl.original].intent;
      pl.duplicate_of = JoinPath(ctx_->warehouse.path(), JoinPath(first.dest_dir, first.dest_name));
    }
    if (pl.duplicate_of.empty()) {
      pl.action = Action::kIngest;
    } else if (opt.on_duplicate == OnDuplicate::kQuarantine) {
      pl.action = Action::kQuarantine;
    } else if (opt.on_duplicate == OnDuplicate::kDelete) {
      pl.action = Action::kDelete;
    } else {
      pl.action = Action::kKeep;
    }

    Intent& in = pl.intent;
    in.sha256 = p.sha256;
    in.src_dir = p.candidate.dir->rel;
    in.src_name = p.candidate.name;
    in.src_dev = p.st.dev;
    in.src_ino = p.st.ino;
    in.size = p.st.size;
    in.mtime_ns = p.st.mtime_ns;
    if (!p.tmp_name.empty()) {
      in.tmp_dir = std::string(kTempDirName);
      in.tmp_name = p.tmp_name;
      in.moved_dev = p.tmp_dev;
      in.moved_ino = p.tmp_ino;
    } else {
      in.moved_dev = p.st.dev;
      in.moved_ino = p.st.ino;
    }
    if (p.candidate.has_sidecar) in.sidecar_name = p.candidate.name + std::string(kSidecarSuffix);

    if (pl.action == Action::kIngest || pl.action == Action::kQuarantine) {
      in.action = pl.action == Action::kIngest ? IntentAction::kIngest : IntentAction::kQuarantine;
      in.dest_dir = pl.action == Action::kIngest ? partition_dir : duplicates_dir;
      s = ChooseName(in.dest_dir, p, &in.dest_name);
      if (!s.ok()) {
        Fail(&pl, Status::IOError("cannot ingest " + p.candidate.dir->file.Child(p.candidate.name) +
                                      ": " + s.message(),
                                  s.err()));
        continue;
      }
    } else {
      in.action = IntentAction::kDelete;
    }
    if (pl.action == Action::kIngest) batch_content[p.sha256] = static_cast<int>(plan->size());
    plan->push_back(std::move(pl));
  }

  // What follows from the decisions, formatted on several threads: it is
  // most of the CPU a plan takes, and the renames wait for it.
  const std::string ingested_at = t.Rfc3339();
  const std::string hour_path = t.HourPath();
  const uint64_t first_id = next_id_;
  next_id_ += plan->size();
  ctx_->pool->ParallelFor(plan->size(), static_cast<size_t>(opt.concurrency), [&](size_t i) {
    Planned& pl = (*plan)[i];
    const Prepared& p = *pl.file;
    Intent& in = pl.intent;
    pl.id = IntentId(now_ns, first_id + i);
    in.snapshot_key = keys::Snapshot(p.candidate.dir->st.dev, p.candidate.dir->st.ino,
                                     p.candidate.pos, p.candidate.name);
    if (pl.action != Action::kIngest) return;
    ManifestRecord rec;
    rec.path = JoinPath(ctx_->warehouse.path(), JoinPath(in.dest_dir, in.dest_name));
    rec.source = p.candidate.dir->file.Child(p.candidate.name);
    rec.sha256 = p.sha256;
    rec.device = p.st.dev;
    rec.inode = p.st.ino;
    rec.size = p.st.size;
    rec.mtime_ns = p.st.mtime_ns;
    rec.ingested_at = ingested_at;
    in.manifest_path = hour_path;
    in.manifest_line = FormatManifestLine(rec);
  });
  return Status::OK();
}

void Committer::Fail(Planned* p, const Status& s) {
  p->failed = true;
  ++stats_->failed;
  spdlog::error("{}", s.ToString());
  const Candidate& c = p->file->candidate;
  RecordFailure(*c.dir, c.name, &c.st, s, ctx_->clock->NowNs());
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

void Committer::CheckBeforeMove(Planned* p) const {
  const Intent& in = p->intent;
  // A copy from another filesystem is ours; a staged file may have been
  // replaced or written to since it was hashed, and then gets another turn.
  if (!in.cross_fs() && !IsUnchanged(ctx_->env, p->source_dir(), in.src_name, in.src_dev,
                                     in.src_ino, in.size, in.mtime_ns)) {
    p->failed = true;
  }
}

void Committer::RenameIn(Planned* p) const {
  if (p->failed) return;
  const Intent& in = p->intent;
  const File& from = in.cross_fs() ? ctx_->tmp_dir : p->source_dir();
  Status s =
      ctx_->env->Rename(from, in.cross_fs() ? in.tmp_name : in.src_name, *p->dest, in.dest_name);
  if (!s.ok()) {
    p->failed = true;
    p->move_error = s;
  }
}

void Committer::CheckAfterMove(Planned* p) const {
  if (p->failed) return;
  Env* env = ctx_->env;
  const Intent& in = p->intent;
  const File& dest = *p->dest;
  const bool intact =
      in.cross_fs()
          ? IsSameInode(env, dest, in.dest_name, in.moved_dev, in.moved_ino)
          : IsUnchanged(env, dest, in.dest_name, in.src_dev, in.src_ino, in.size, in.mtime_ns);
  if (!intact) {
    // Swapped or appended to between the check and the rename: put back
    // what was moved and leave it for a later pass.
    const File& src = p->source_dir();
    if (!in.cross_fs()) (void)env->Rename(dest, in.dest_name, src, in.src_name);
    p->failed = true;
    p->move_error = Status::IOError(src.Child(in.src_name) +
                                    " was replaced or written to while being moved; retried later");
    return;
  }
  p->moved = true;
}

void Committer::MoveAll(std::vector<Planned>* plan) {
  // A duplicate of this batch's own ingest is handled only once that
  // ingest has moved, so a failed original is never lost with its twin:
  // originals go first, then the duplicates of this batch's ingests.
  std::vector<Planned*> originals, twins;
  for (Planned& p : *plan) {
    if (p.failed || (p.action != Action::kIngest && p.action != Action::kQuarantine)) continue;
    Status s = DestDir(p.intent.dest_dir, &p.dest);
    if (!s.ok()) {
      Fail(&p, s);
      continue;
    }
    (p.original >= 0 ? twins : originals).push_back(&p);
  }
  // The checks run on several threads (as does putting back a file found
  // changed after its rename, which is rare). The renames into the
  // warehouse run on this one, in plan order: they take the filesystem's
  // rename lock, and a second thread would only spin on it.
  ThreadPool* pool = ctx_->pool;
  const auto width = static_cast<size_t>(ctx_->options->concurrency);
  auto move = [&](const std::vector<Planned*>& files) {
    pool->ParallelFor(files.size(), width, [&](size_t i) { CheckBeforeMove(files[i]); });
    for (Planned* p : files) RenameIn(p);
    pool->ParallelFor(files.size(), width, [&](size_t i) { CheckAfterMove(files[i]); });
  };
  move(originals);
  for (Planned* p : twins) {
    if (!(*plan)[p->original].moved) p->failed = true;
  }
  move(twins);
  // Reported in plan order.
  for (Planned& p : *plan) {
    if (p.dest == nullptr || !p.failed) continue;
    if (p.move_error.ok()) {
      ++stats_->deferred;
    } else {
      Fail(&p, p.move_error);
    }
  }
}

void Committer::UndoMoves(std::vector<Planned>* plan) {
  Env* env = ctx_->env;
  for (Planned& p : *plan) {
    if (!p.moved) continue;
    const Intent& in = p.intent;
    Status s = in.cross_fs() ? env->Unlink(*p.dest, in.dest_name)
                             : env->Rename(*p.dest, in.dest_name, p.source_dir(), in.src_name);
    if (s.ok()) p.moved = false;
  }
}

void Committer::ReportDryRun(const std::vector<Planned>& plan) {
  for (const Planned& p : plan) {
    const std::string source = p.source_dir().Child(p.file->candidate.name);
    const Intent& in = p.intent;
    std::string dest = JoinPath(ctx_->warehouse.path(), JoinPath(in.dest_dir, in.dest_name));
    switch (p.action) {
      case Action::kIngest:
        std::printf("ingest %s -> %s\n", Printable(source).c_str(), Printable(dest).c_str());
        if (HooksEnabled(*ctx_->options)) {
          std::printf("hook %s: would run\n", Printable(dest).c_str());
        }
        ++stats_->files_ingested;
        stats_->bytes_ingested += in.size;
        break;
      case Action::kQuarantine:
        std::printf("duplicate of %s: %s -> %s\n", Printable(p.duplicate_of).c_str(),
                    Printable(source).c_str(), Printable(dest).c_str());
        ++stats_->duplicates;
        break;
      case Action::kDelete:
        std::printf("duplicate of %s: %s would be deleted\n", Printable(p.duplicate_of).c_str(),
                    Printable(source).c_str());
        ++stats_->duplicates;
        break;
      case Action::kKeep:
        std::printf("duplicate of %s: %s would be kept in staging\n",
                    Printable(p.duplicate_of).c_str(), Printable(source).c_str());
        ++stats_->duplicates;
        break;
    }
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
  FlushFailures();
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

Status Committer::Start(Job* job) {
  std::vector<Prepared>* batch = &job->batch;
  Env* env = ctx_->env;
  const int64_t now_ns = ctx_->clock->NowNs();
  job->now_ns = now_ns;
  taken_.clear();
  // Oldest arrival first, so that of two copies of one content the one
  // that landed first is the original, whatever order the workers finished.
  std::sort(batch->begin(), batch->end(), [](const Prepared& a, const Prepared& b) {
    return std::tie(a.candidate.st.ctime_ns, a.candidate.name) <
           std::tie(b.candidate.st.ctime_ns, b.candidate.name);
  });
  std::vector<Planned>& plan = job->plan;
  Status s = Plan(batch, now_ns, &plan);
  if (!s.ok()) return s;
  if (ctx_->options->dry_run) {
    ReportDryRun(plan);
    return Status::OK();
  }
  auto drop_temps = [&]() {
    for (Planned& p : plan) {
      if (p.intent.cross_fs() && !p.moved) (void)env->Unlink(ctx_->tmp_dir, p.intent.tmp_name);
    }
  };

  // B1 and I, both before any rename: B1 makes durable what the intents
  // claim (upstream writers need not have synced what they dropped, and the
  // copies were written without fsync), I the intents. When the journal
  // is on a filesystem B1 syncs anyway, its append needs no sync of its
  // own; otherwise it syncs after B1.
  const bool b1_warehouse = ctx_->cross_fs;
  const bool b1_covers_journal =
      BarrierCovers(ctx_->journal->dev(), /*staging=*/true, b1_warehouse);
  if (b1_covers_journal) s = WriteIntents(job, /*sync=*/false);
  if (s.ok()) s = Barrier(/*staging=*/true, b1_warehouse);
  if (s.ok() && !b1_covers_journal) s = WriteIntents(job, /*sync=*/true);
  if (!s.ok()) {
    drop_temps();
    return s;
  }

  // M: renames. Each is atomic; recovery tells done from not done by the
  // inode at the destination.
  MoveAll(&plan);
  bool any_moved = false;
  for (Planned& p : plan) {
    any_moved |= p.moved;
    // A deleted duplicate's original must have moved first, as for a
    // quarantined one.
    if (!p.failed && p.action == Action::kDelete && p.original >= 0 && !plan[p.original].moved) {
      p.failed = true;
      ++stats_->deferred;
    }
  }

  job->any_moved = any_moved;
  job->dirs_created = dirs_created_;
  dirs_created_ = false;

  // Later batches must see the contents and names this one moved before
  // its manifest records and state write land. Should those fail, the pass
  // stops, and recovery resolves each intent on its own.
  RecentBatch recent;
  for (const Planned& p : plan) {
    if (p.failed || !p.moved) continue;
    recent.Add(p.intent.dest_dir, p.intent.dest_name, p.action == Action::kIngest, p.intent.sha256);
  }
  recent.Seal();
  recent_.push_back(std::move(recent));
  if (recent_.size() > kRecentBatches) recent_.pop_front();
  ++started_;
  return Status::OK();
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

Status Committer::Finish(Job* job) {
  Env* env = ctx_->env;
  StateStore* state = ctx_->state;
  const int64_t now_ns = job->now_ns;
  std::vector<Planned>& plan = job->plan;
  PassStats* stats = &finished_;
  Status s;

  // B2: the renames (and any new partition directory) are durable before a
  // manifest record points at them.
  if (job->any_moved || job->dirs_created) {
    s = Barrier(/*staging=*/!ctx_->cross_fs, /*warehouse=*/true);
    if (!s.ok()) {
      UndoMoves(&plan);
      return s;
    }
  }

  // R: manifest records, then one fdatasync.
  std::map<std::string, std::string> lines;  // hour dir -> lines
  for (const Planned& p : plan) {
    if (p.moved && p.action == Action::kIngest) {
      lines[p.intent.manifest_path] += p.intent.manifest_line;
    }
  }
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
    UndoMoves(&plan);
    return s;
  }

  // U: unlink what the commit makes redundant. Sources are checked to still
  // be the hashed inode so that a file replaced meanwhile is never removed.
  // An unlink can wait on the device (online discard frees blocks
  // synchronously), so with workers the unlinks run in parallel; results are
  // reported in plan order.
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
  auto unlink_one = [&](size_t k) {
    const size_t i = todo[k];
    const Planned& p = plan[i];
    const Intent& in = p.intent;
    // A source written to since it was hashed is not what was committed:
    // it stays, and a later pass takes its new content.
    if (done_with_source(p) && (in.cross_fs() || p.action == Action::kDelete) &&
        IsUnchanged(env, p.source_dir(), in.src_name, in.src_dev, in.src_ino, in.size,
                    in.mtime_ns)) {
      done[i].source = env->Unlink(p.source_dir(), in.src_name);
    }
    // A leftover temp copy is harmless (the next pass empties the temp
    // dir), but an I/O error on the warehouse is still worth an exit 1.
    if (in.cross_fs() && !p.moved) done[i].temp = env->Unlink(ctx_->tmp_dir, in.tmp_name);
    if (done_with_source(p) && !in.sidecar_name.empty()) {
      done[i].sidecar = env->Unlink(p.source_dir(), in.sidecar_name);
    }
  };
  ctx_->pool->ParallelFor(todo.size(), unlink_threads_, unlink_one);
  bool unlinked = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    Planned& p = plan[i];
    if (p.failed) continue;
    const Unlinked& d = done[i];
    // A sidecar already gone is as good as removed.
    const bool sidecar_gone = d.sidecar && d.sidecar->IsNotFound();
    for (const Status* r :
         {d.source ? &*d.source : nullptr, d.sidecar && !sidecar_gone ? &*d.sidecar : nullptr}) {
      if (r == nullptr) continue;
      if (r->ok()) {
        unlinked = true;
        continue;
      }
      p.cleanup_left = true;
      ++stats->failed;
      spdlog::error("{}; the next pass removes it", r->ToString());
      RecordFailure(*p.file->candidate.dir, p.file->candidate.name, &p.file->st, *r, now_ns);
    }
    if (d.temp && !d.temp->ok() && !d.temp->IsNotFound()) {
      ++stats->failed;
      spdlog::error("{}", d.temp->ToString());
    }
  }
  if (unlinked) {
    s = Barrier(/*staging=*/true, /*warehouse=*/false);
    if (!s.ok()) return s;
  }

  // C: the content index and the end of the intents, in one synced write.
  std::vector<StateWrite> writes;
  for (Planned& p : plan) {
    const Intent& in = p.intent;
    const Prepared& f = *p.file;
    // Closing the batch closes every intent in it: one that is left open
    // moves into the state, where recovery finds it next pass.
    if (p.action != Action::kKeep && p.cleanup_left) {
      writes.push_back({keys::Intent(p.id), EncodeIntent(p.intent)});
    }
    if (p.failed) continue;
    if (p.action == Action::kKeep) {
      // Remembered by its tuple, so later passes skip it unhashed.
      Snapshot snap{f.st.dev, f.st.ino, f.st.size, f.st.mtime_ns, f.st.ctime_ns, now_ns, in.sha256};
      writes.push_back({in.snapshot_key, EncodeSnapshot(snap)});
    } else if (f.candidate.has_snapshot) {
      writes.push_back({in.snapshot_key, std::nullopt});
    }
    if (p.action == Action::kIngest && p.moved) {
      ContentRecord rec;
      rec.path = JoinPath(ctx_->warehouse.path(), JoinPath(in.dest_dir, in.dest_name));
      rec.source = p.source_dir().Child(in.src_name);
      rec.manifest = JoinPath(ctx_->manifests.path(),
                              JoinPath(in.manifest_path, std::string(kManifestFileName)));
      rec.size = in.size;
      rec.ingested_at_ns = now_ns;
      writes.push_back({keys::Content(in.sha256), EncodeContentRecord(rec)});
      // --exec: the hook is queued with the content record, atomically.
      if (HooksEnabled(*ctx_->options)) writes.push_back(PendingHookWrite(p.id, in, rec, now_ns));
    }
  }
  if (job->journal_batch != 0) ctx_->journal->AddCloseWrite(job->journal_batch, &writes);
  if (!writes.empty()) {
    s = state->Apply(writes, /*sync=*/true);
    if (!s.ok()) return s;
  }
  if (job->journal_batch != 0) ctx_->journal->Closed(job->journal_batch);
  // Lookups from now on see this batch in the state.
  generation_.fetch_add(1, std::memory_order_release);

  for (const Planned& p : plan) {
    if (p.failed) continue;
    // Left for recovery: its failure stays on record until that is done.
    if (!p.cleanup_left) ClearFailure(*p.file->candidate.dir, p.file->candidate.name);
    const std::string source = p.source_dir().Child(p.intent.src_name);
    if (p.action == Action::kIngest) {
      ++stats->files_ingested;
      stats->bytes_ingested += p.intent.size;
      ctx_->progress.files.fetch_add(1, std::memory_order_relaxed);
      ctx_->progress.bytes.fetch_add(p.intent.size, std::memory_order_relaxed);
      spdlog::info(
          "ingested {} -> {} ({} bytes, sha256 {})", source,
          JoinPath(ctx_->warehouse.path(), JoinPath(p.intent.dest_dir, p.intent.dest_name)),
          p.intent.size, p.intent.sha256);
    } else {
      ++stats->duplicates;
      spdlog::info("duplicate of {}: {} {}", p.duplicate_of, source,
                   p.action == Action::kQuarantine ? "quarantined"
                   : p.action == Action::kDelete   ? "deleted"
                                                   : "kept in staging");
    }
  }
  return Status::OK();
}

}  // namespace ingest
