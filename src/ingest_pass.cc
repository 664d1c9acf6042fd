#include "ingest_pass.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <optional>

#include "claim_backfill.h"
#include "claims.h"
#include "commit.h"
#include "fs_util.h"
#include "hooks.h"
#include "intent_journal.h"
#include "manifest_writer.h"
#include "open_writers.h"
#include "pipeline.h"
#include "recovery.h"
#include "scan.h"
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
  File state_dir;
  if (!options.dry_run) {
    s = env->OpenDir(options.state_path, &state_dir);
    if (s.ok()) s = LoadClaimOwner(env, state_dir, /*create=*/true, &ctx.claim_owner);
    if (!s.ok()) return s;
  } else if (env->OpenDir(options.state_path, &state_dir).ok()) {
    s = LoadClaimOwner(env, state_dir, /*create=*/false, &ctx.claim_owner);
    if (!s.ok()) return s;
  }
  std::optional<ClaimSpace> claims;
  if (ctx.warehouse.isValid()) {
    claims.emplace(env, &ctx.warehouse, state, ctx.claim_owner, /*writable=*/!options.dry_run);
    ctx.claims = &*claims;
    // What other instances claimed since this one last looked.
    s = claims->Refresh();
    if (!s.ok()) return s;
  }

  IntentJournal journal(env, state, options.journal_reset_bytes);
  if (!options.dry_run) {
    s = journal.Open(state_dir);
    if (!s.ok()) return s;
    ctx.journal = &journal;
    s = RecoverIntents(&ctx, stats);
    if (s.ok()) s = BackfillClaims(&ctx);
    if (s.ok() && ctx.unresolved.empty()) {
      s = CheckStateAgainstManifests(env, ctx.manifests, options.input, state,
                                     JoinPath(options.state_path, "db"), options.shard);
    }
    if (!s.ok()) return s;
  }

  bool network_fs = false;
  s = env->IsNetworkFs(ctx.input, &network_fs);
  if (!s.ok()) return s;
  OpenWriters writers(env, options.input, network_fs);
  ctx.writers = &writers;
  ThreadPool pool(Committer::kIoThreads);
  ctx.pool = &pool;
  ProgressReporter progress(&ctx.progress, options.progress_tty,
                            static_cast<uint64_t>(options.max_files));
  Pipeline pipeline(&ctx, stats);
  StagingScan scan(&ctx, &pipeline);
  s = scan.Run();
  Status finish = pipeline.Finish();
  stats->deferred += scan.deferred();
  stats->skipped += scan.skipped();
  stats->failed += scan.failed();
  stats->next_ready_ns = scan.next_ready_ns();
  stats->cut_short = scan.cut();
  stats->backlog = scan.backlog();
  stats->backlog_counted = s.ok() && !scan.cut();
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
