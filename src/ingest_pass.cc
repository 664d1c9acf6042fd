#include "ingest_pass.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <memory>

#include "codec.h"
#include "commit.h"
#include "entry_decider.h"
#include "failure_log.h"
#include "fs_util.h"
#include "hooks.h"
#include "intent_journal.h"
#include "manifest.h"
#include "name_escape.h"
#include "pipeline.h"
#include "records.h"
#include "recovery.h"
#include "scanner.h"
#include "snapshot_table.h"
#include "stat_ahead.h"
#include "state_check.h"
#include "thread_pool.h"
#include "warehouse.h"

namespace ingest {

namespace {

// Opens a configured output root, creating it and its parents. A dry run
// creates nothing: a missing root is left as an invalid File that reads as
// empty.
Status OpenRoot(Env* env, const Options& options, const std::string& path, File* out) {
  Status s = env->OpenDir(path, out);
  if (!s.IsNotFound()) return s;
  if (options.dry_run) {
    *out = File(UniqueFd(), path);
    return Status::OK();
  }
  File fs_root;
  s = env->OpenDir("/", &fs_root);
  if (!s.ok()) return s;
  bool created = false;
  File dir;
  s = OpenOrCreateDirs(env, fs_root, std::string_view(path).substr(1), &dir, &created);
  if (!s.ok()) return s;
  return env->OpenDir(path, out);
}

// Decides, entry by entry, what the scan found: the input directory and,
// with --recursive, its subdirectories, breadth first, each with its own
// snapshot table and cursor. Runs on the caller's thread.
class Scan {
 public:
  Scan(PassContext* ctx, Pipeline* pipeline)
      : ctx_(ctx),
        pipeline_(pipeline),
        decider_(ctx->env, *ctx->options, ctx->clock, ctx->input, ctx->input_st, &ctx->unresolved),
        failures_(ctx->state, !ctx->options->dry_run) {}

  Status Run() {
    Status s = decider_.Init();
    if (!s.ok()) return s;
    started_ns_ = ctx_->clock->NowNs();
    std::deque<std::string> pending{""};
    while (!pending.empty() && !cut_) {
      const std::string rel = std::move(pending.front());
      pending.pop_front();
      auto dir = std::make_shared<StagingDir>();
      dir->rel = rel;
      s = OpenDirs(ctx_->env, ctx_->input, rel, &dir->file);
      if (s.ok()) s = ctx_->env->Stat(dir->file, &dir->st);
      if (s.IsNotFound()) continue;  // removed since it was listed
      if (!s.ok()) return s;
      if (!rel.empty() && !decider_.OnInputMount(*dir)) {
        spdlog::warn("not descending into {}: another filesystem or mount", dir->file.path());
        continue;
      }
      s = ScanDir(std::move(dir), &pending);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  uint64_t deferred() const { return deferred_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t failed() const { return failed_; }
  int64_t next_ready_ns() const { return next_ready_ns_; }
  bool cut() const { return cut_; }

 private:
  Status ScanDir(std::shared_ptr<StagingDir> dir, std::deque<std::string>* pending) {
    Env* env = ctx_->env;
    dir_ = dir;
    SnapshotTable table(ctx_->state, dir->st.dev, dir->st.ino, !ctx_->options->dry_run);
    table_ = &table;
    cursor_key_ = keys::Cursor(dir->st.dev, dir->st.ino);
    const int64_t start = ResumeAt();
    DirScanner scanner(env, &dir->file, DirScanner::kDefaultBufferSize, start);
    const Options& o = *ctx_->options;
    // With workers, stats are taken ahead on as many threads; with one, the
    // listing keeps its single, deterministic order of operations.
    StatAhead listing(env, &dir->file, &scanner, ctx_->pool, static_cast<size_t>(o.concurrency),
                      [this](const DirEntry& e) { return decider_.NeedsStat(e); });
    table.Begin(start);
    uint64_t listed = 0;
    Status s;
    for (;;) {
      DirEntry e;
      const PreStat* prestat = nullptr;
      bool done = false;
      s = listing.Next(&e, &prestat, &done);
      if (!s.ok()) return s;
      if (done) break;
      const bool out_of_files = o.max_files > 0 && submitted_ >= o.max_files;
      const bool out_of_time = o.max_seconds > 0 && ctx_->clock->NowNs() - started_ns_ >=
                                                        o.max_seconds * kNanosPerSecond;
      if (out_of_files || out_of_time || stopped_ || StopRequested()) {
        // Resume here next run.
        cut_ = true;
        s = SaveCursor(e.pos);
        if (s.ok()) s = table.Flush();
        failures_.Flush();
        return s;
      }
      ctx_->progress.listed.fetch_add(1, std::memory_order_relaxed);
      s = Consider(e, prestat, pending);
      if (!s.ok()) return s;
      // Every so often, remember where we are, so a crash resumes nearby.
      if (++listed % kCursorEvery == 0) {
        s = SaveCursor(e.pos);
        if (!s.ok()) return s;
      }
    }
    s = table.End();
    if (s.ok()) s = ClearCursor();
    // Failure records are hints, apart from the listing's own writes.
    if (s.ok()) failures_.Prune(env, *dir);
    failures_.Flush();
    return s;
  }

  // Where the last, cut-short listing stopped; 0 for a full listing. The
  // cursor is only a hint: an offset the directory no longer accepts falls
  // back to a full listing.
  int64_t ResumeAt() {
    std::string value;
    if (!ctx_->state->Get(cursor_key_, &value).ok()) return 0;
    Decoder d(value);
    int64_t pos = 0;
    if (!d.GetSigned(&pos) || pos == 0) return 0;
    const File& dir = dir_->file;
    Status s = ctx_->env->SeekDir(dir, pos);
    if (!s.ok()) {
      spdlog::warn("cannot resume the listing of {} ({}); listing it whole", dir.path(),
                   s.ToString());
      (void)ctx_->env->SeekDir(dir, 0);
      return 0;
    }
    spdlog::debug("resuming the listing of {} at offset {}", dir.path(), pos);
    return pos;
  }

  Status SaveCursor(int64_t pos) {
    if (ctx_->options->dry_run) return Status::OK();
    Encoder e;
    e.PutSigned(pos);
    return ctx_->state->Apply({{cursor_key_, e.Release()}}, /*sync=*/false);
  }

  Status ClearCursor() {
    if (ctx_->options->dry_run) return Status::OK();
    return ctx_->state->Apply({{cursor_key_, std::nullopt}}, /*sync=*/false);
  }

  // Acts on what the decider (entry_decider.h) made of one entry.
  Status Consider(const DirEntry& e, const PreStat* prestat, std::deque<std::string>* pending) {
    EntryDecision d;
    Status s = decider_.Decide(dir_->file, e, table_, &d, prestat);
    if (!s.ok()) return s;
    switch (d.verdict) {
      case EntryVerdict::kGone:
        return Status::OK();
      case EntryVerdict::kSkip:
        return Skip(e.name, d.reason);
      case EntryVerdict::kDescend:
        return Descend(e.name, pending);
      case EntryVerdict::kFailed:
        ++failed_;
        spdlog::error("{}", d.error.ToString());
        failures_.Record(*dir_, e.name, nullptr, d.error, ctx_->clock->NowNs());
        return Status::OK();
      case EntryVerdict::kUnresolved:
        ++failed_;
        return Skip(e.name, d.reason);
      case EntryVerdict::kWaitSidecar:
        return Defer(e.name, 0, d.reason);
      case EntryVerdict::kWaitStable:
        NoteReadyAt(d.judged_at_ns + d.stability.wait_ns);
        return Defer(e.name, d.stability.wait_ns, d.reason);
      case EntryVerdict::kReady:
        break;
    }
    Candidate c{dir_, std::string(e.name), d.st, d.has_sidecar, e.pos, d.previous.has_value()};
    ++submitted_;
    if (!pipeline_->Submit(std::move(c))) stopped_ = true;
    return Status::OK();
  }

  // A subdirectory is listed after this one; never through a symlink
  // (DirScanner's entries are lstat'ed, and each component opens with
  // O_NOFOLLOW).
  Status Descend(std::string_view name, std::deque<std::string>* pending) {
    pending->push_back(JoinPath(dir_->rel, name));
    return Status::OK();
  }

  Status Skip(std::string_view name, const char* why) {
    ++skipped_;
    if (ctx_->options->dry_run) {
      std::printf("skip %s: %s\n", Printable(dir_->file.Child(name)).c_str(), why);
    } else if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("skip {}: {}", dir_->file.Child(name), why);
    }
    return Status::OK();
  }

  Status Defer(std::string_view name, int64_t wait_ns, const char* why) {
    ++deferred_;
    if (!ctx_->options->dry_run && !spdlog::should_log(spdlog::level::debug)) {
      return Status::OK();
    }
    char text[96];
    if (wait_ns > 0) {
      std::snprintf(text, sizeof text, "%s (%.1fs to go)", why,
                    static_cast<double>(wait_ns) / kNanosPerSecond);
    } else {
      std::snprintf(text, sizeof text, "%s", why);
    }
    if (ctx_->options->dry_run) {
      std::printf("wait %s: %s\n", Printable(dir_->file.Child(name)).c_str(), text);
    } else {
      spdlog::debug("wait {}: {}", dir_->file.Child(name), text);
    }
    return Status::OK();
  }

  // --- For watch: a stop request, and when to look again. ---

  bool StopRequested() const {
    return ctx_->stop != nullptr && ctx_->stop->load(std::memory_order_relaxed);
  }

  void NoteReadyAt(int64_t ns) {
    if (next_ready_ns_ == 0 || ns < next_ready_ns_) next_ready_ns_ = ns;
  }

  static constexpr uint64_t kCursorEvery = 4096;

  PassContext* ctx_;
  Pipeline* pipeline_;
  EntryDecider decider_;
  FailureLog failures_;
  // The directory being listed, its snapshots and its cursor.
  std::shared_ptr<const StagingDir> dir_;
  SnapshotTable* table_ = nullptr;
  std::string cursor_key_;
  int64_t started_ns_ = 0;
  bool stopped_ = false;
  bool cut_ = false;  // --max-files or --max-seconds ended the pass
  int64_t submitted_ = 0;
  uint64_t deferred_ = 0;
  uint64_t skipped_ = 0;
  uint64_t failed_ = 0;
  int64_t next_ready_ns_ = 0;
};

}  // namespace

Status RunIngestPass(const Options& options, Env* env, Clock* clock, StateStore* state,
                     PassStats* stats, const std::atomic<bool>* stop, HookRunner* hooks) {
  PassContext ctx;
  ctx.stop = stop;
  ctx.options = &options;
  ctx.env = env;
  ctx.clock = clock;
  ctx.state = state;
  Status s = env->OpenDir(options.input, &ctx.input);
  if (s.ok()) s = env->Stat(ctx.input, &ctx.input_st);
  if (s.ok()) s = OpenRoot(env, options, options.warehouse, &ctx.warehouse);
  if (s.ok()) s = OpenRoot(env, options, options.manifests, &ctx.manifests);
  if (!s.ok()) return s;
  if (ctx.warehouse.isValid()) {
    FileStat wst;
    s = env->Stat(ctx.warehouse, &wst);
    if (!s.ok()) return s;
    ctx.warehouse_dev = wst.dev;
    uint64_t input_mount = 0, warehouse_mount = 0;
    s = env->MountId(ctx.input, &input_mount);
    if (s.ok()) s = env->MountId(ctx.warehouse, &warehouse_mount);
    if (!s.ok()) return s;
    // Another filesystem, or another mount of the same one (a bind mount,
    // systemd's ReadWritePaths=): rename cannot cross either, so copy.
    ctx.cross_fs = wst.dev != ctx.input_st.dev || input_mount != warehouse_mount;
    if (ctx.cross_fs && !options.dry_run && ::geteuid() != 0) {
      spdlog::warn(
          "not running as root: files copied into {} belong to this user, not to their "
          "original owners",
          options.warehouse);
    }
  }
  if (ctx.cross_fs && !options.dry_run) {
    bool created = false;
    s = OpenOrCreateDirs(env, ctx.warehouse, kTempDirName, &ctx.tmp_dir, &created);
    if (!s.ok()) return s;
  }
  ManifestWriter manifest(env, &ctx.manifests);
  ctx.manifest = &manifest;

  IntentJournal journal(env, state, options.journal_reset_bytes);
  if (!options.dry_run) {
    File state_dir;
    s = env->OpenDir(options.state_path, &state_dir);
    if (s.ok()) s = journal.Open(state_dir);
    if (!s.ok()) return s;
    ctx.journal = &journal;
    s = RecoverIntents(&ctx, stats);
    if (s.ok() && ctx.unresolved.empty()) {
      s = CheckStateAgainstManifests(env, ctx.manifests, state, JoinPath(options.state_path, "db"));
    }
    if (!s.ok()) return s;
  }

  ThreadPool pool(Committer::kUnlinkThreads);
  ctx.pool = &pool;
  ProgressReporter progress(&ctx.progress, options.progress_tty,
                            static_cast<uint64_t>(options.max_files));
  Pipeline pipeline(&ctx, stats);
  Scan scan(&ctx, &pipeline);
  s = scan.Run();
  Status finish = pipeline.Finish();
  stats->deferred += scan.deferred();
  stats->skipped += scan.skipped();
  stats->failed += scan.failed();
  stats->next_ready_ns = scan.next_ready_ns();
  stats->cut_short = scan.cut();
  // Hooks of this pass's commits and of earlier runs, whether or not the
  // pass stopped early: what committed is ingested either way. A stop
  // request leaves them (those not yet started) for the next pass, so that
  // it ends promptly.
  Status ran_hooks;
  if (stop == nullptr || !stop->load()) {
    ran_hooks = RunHooksAfterPass(options, state, clock, hooks, stats, stop);
  }
  if (!s.ok()) return s;
  return finish.ok() ? ran_hooks : finish;
}

}  // namespace ingest
