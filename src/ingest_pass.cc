#include "ingest_pass.h"

#include <dirent.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>

#include "fs_util.h"
#include "manifest.h"
#include "name_escape.h"
#include "pipeline.h"
#include "records.h"
#include "recovery.h"
#include "scanner.h"
#include "sidecar.h"
#include "stability.h"
#include "warehouse.h"

namespace ingest {

namespace {

constexpr size_t kSnapshotFlushEvery = 1024;

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

// Decides, entry by entry, what the scan found. Runs on the caller's thread.
class Scan {
 public:
  Scan(PassContext* ctx, Pipeline* pipeline) : ctx_(ctx), pipeline_(pipeline) {}

  Status Run() {
    Status s = ctx_->env->IsNetworkFs(ctx_->input, &network_fs_);
    if (!s.ok()) return s;
    DirScanner scanner(ctx_->env, &ctx_->input);
    for (;;) {
      DirEntry e;
      bool done = false;
      s = scanner.Next(&e, &done);
      if (!s.ok()) return s;
      if (done) break;
      s = Consider(e);
      if (!s.ok()) return s;
      if (stopped_) break;
    }
    return FlushSnapshots();
  }

  uint64_t deferred() const { return deferred_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t failed() const { return failed_; }

 private:
  Status Consider(const DirEntry& e) {
    const std::string name(e.name);
    const NameFilter f = ClassifyName(name);
    if (f != NameFilter::kCandidate) return Skip(name, NameFilterText(f));
    if (e.type != DT_REG && e.type != DT_UNKNOWN) return Skip(name, "not a regular file");

    FileStat st;
    Status s = ctx_->env->StatAt(ctx_->input, name, &st);
    if (s.IsNotFound()) return Status::OK();  // gone since the listing
    if (!s.ok()) {
      ++failed_;
      spdlog::error("{}", s.ToString());
      return Status::OK();
    }
    if (!st.IsRegular()) return Skip(name, "not a regular file");
    if (ctx_->unresolved.count({st.dev, st.ino})) {
      ++failed_;
      return Skip(name, "its earlier commit could not be finished (see the recovery error)");
    }

    bool known = false;
    s = IsKnown(st, &known);
    if (!s.ok()) return s;
    if (known) return Skip(name, "kept duplicate");

    Candidate c{name, st, false};
    if (ctx_->options->mode == Mode::kSidecar) {
      FileStat ok;
      Status has = ctx_->env->StatAt(ctx_->input, name + std::string(kSidecarSuffix), &ok);
      if (!has.ok() || !ok.IsRegular()) return Defer(name, "waiting for .ok");
      c.has_sidecar = true;
    } else {
      std::string wait;
      bool complete = false;
      s = CheckStability(name, st, &complete, &wait);
      if (!s.ok()) return s;
      if (!complete) return Defer(name, wait);
    }
    if (!pipeline_->Submit(std::move(c))) stopped_ = true;
    return Status::OK();
  }

  // A kept duplicate: its identity is known and it is never hashed again.
  Status IsKnown(const FileStat& st, bool* kept) {
    *kept = false;
    std::string value;
    Status s = ctx_->state->Get(keys::Known(st.dev, st.ino), &value);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return s;
    KnownFile k;
    *kept = DecodeKnownFile(value, &k) && k.size == st.size && k.mtime_ns == st.mtime_ns &&
            k.ctime_ns == st.ctime_ns;
    return Status::OK();
  }

  Status CheckStability(const std::string& name, const FileStat& st, bool* complete,
                        std::string* wait) {
    const FileStat& dir = ctx_->input_st;
    const std::string key = keys::Snapshot(dir.dev, dir.ino, name);
    std::string value;
    Snapshot previous;
    bool have_previous = false;
    Status s = ctx_->state->Get(key, &value);
    if (s.ok()) {
      have_previous = DecodeSnapshot(value, &previous);
    } else if (!s.IsNotFound()) {
      return s;
    }
    StabilityInput in;
    in.st = st;
    in.previous = have_previous ? &previous : nullptr;
    in.now_ns = ctx_->clock->NowNs();
    in.window_ns = ctx_->options->stability_seconds * kNanosPerSecond;
    in.network_fs = network_fs_;
    StabilityVerdict v = DecideStability(in);
    if (v.store_snapshot && !ctx_->options->dry_run) {
      snapshot_writes_.push_back({key, EncodeSnapshot(v.snapshot)});
      if (snapshot_writes_.size() >= kSnapshotFlushEvery) {
        s = FlushSnapshots();
        if (!s.ok()) return s;
      }
    }
    *complete = v.complete;
    if (!v.complete) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "not yet stable (%.1fs to go)",
                    static_cast<double>(v.wait_ns) / kNanosPerSecond);
      *wait = buf;
    }
    return Status::OK();
  }

  // Snapshots are hints: losing the last few to a crash only delays a file,
  // so they are written without sync.
  Status FlushSnapshots() {
    if (snapshot_writes_.empty()) return Status::OK();
    Status s = ctx_->state->Apply(snapshot_writes_, /*sync=*/false);
    snapshot_writes_.clear();
    return s;
  }

  Status Skip(const std::string& name, const std::string& why) {
    ++skipped_;
    if (ctx_->options->dry_run) {
      std::printf("skip %s: %s\n", Printable(ctx_->input.Child(name)).c_str(), why.c_str());
    } else {
      spdlog::debug("skip {}: {}", ctx_->input.Child(name), why);
    }
    return Status::OK();
  }

  Status Defer(const std::string& name, const std::string& why) {
    ++deferred_;
    if (ctx_->options->dry_run) {
      std::printf("wait %s: %s\n", Printable(ctx_->input.Child(name)).c_str(), why.c_str());
    } else {
      spdlog::debug("wait {}: {}", ctx_->input.Child(name), why);
    }
    return Status::OK();
  }

  PassContext* ctx_;
  Pipeline* pipeline_;
  bool network_fs_ = false;
  bool stopped_ = false;
  uint64_t deferred_ = 0;
  uint64_t skipped_ = 0;
  uint64_t failed_ = 0;
  std::vector<StateWrite> snapshot_writes_;
};

}  // namespace

Status RunIngestPass(const Options& options, Env* env, Clock* clock, StateStore* state,
                     PassStats* stats) {
  PassContext ctx;
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
    ctx.cross_fs = wst.dev != ctx.input_st.dev;
  }
  if (ctx.cross_fs && !options.dry_run) {
    bool created = false;
    s = OpenOrCreateDirs(env, ctx.warehouse, kTempDirName, &ctx.tmp_dir, &created);
    if (!s.ok()) return s;
  }
  ManifestWriter manifest(env, &ctx.manifests);
  ctx.manifest = &manifest;

  if (!options.dry_run) {
    s = RecoverIntents(&ctx, stats);
    if (!s.ok()) return s;
  }

  Pipeline pipeline(&ctx, stats);
  Scan scan(&ctx, &pipeline);
  s = scan.Run();
  Status finish = pipeline.Finish();
  stats->deferred += scan.deferred();
  stats->skipped += scan.skipped();
  stats->failed += scan.failed();
  return s.ok() ? finish : s;
}

}  // namespace ingest
