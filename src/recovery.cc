#include "recovery.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "dir_scanner.h"
#include "fs_util.h"
#include "intent_effects.h"
#include "intent_journal.h"
#include "move.h"
#include "records.h"
#include "warehouse.h"

namespace ingest {

namespace {

class IntentRecovery {
 public:
  IntentRecovery(PassContext* ctx, PassStats* stats) : ctx_(ctx), stats_(stats) {}

  Status Recover(const std::string& id, const Intent& in) {
    Env* env = ctx_->env;
    bool at_dest = false;
    File dest;
    if (!in.dest_dir.empty()) {
      Status s = OpenDirs(env, ctx_->warehouse, in.dest_dir, &dest);
      if (!s.ok() && !s.IsNotFound()) return s;
      at_dest = s.ok() && IsSameInode(env, dest, in.dest_name, in.moved_ino);
      if (at_dest && !in.cross_fs() && !DestUnchanged(env, dest, in)) {
        // Moved, but written to after it was hashed (the crash came before
        // the check after the rename): it goes back to staging.
        File src;
        s = OpenDirs(env, ctx_->input, in.src_dir, &src);
        if (s.ok()) s = PutBack(env, dest, src, in);
        if (!s.ok()) return s;
        at_dest = false;
      }
      if (at_dest && in.action == IntentAction::kIngest) {
        Status s = KeepClaim(id, in, dest, &at_dest);
        if (!s.ok()) return s;
      }
    } else {
      // A deletion goes ahead only when its content is safely committed.
      std::string value;
      Status s = ctx_->state->Get(keys::Content(in.sha256), &value);
      if (!s.ok() && !s.IsNotFound()) return s;
      at_dest = s.ok();
    }
    return at_dest ? RollForward(id, in) : RollBack(id, in);
  }

 private:
  Status RollForward(const std::string& id, const Intent& in) {
    Env* env = ctx_->env;
    // The directory the file was staged in; gone means nothing is left to
    // remove there.
    File src;
    Status s = OpenDirs(env, ctx_->input, in.src_dir, &src);
    if (!s.ok() && !s.IsNotFound()) return s;
    const bool have_src = s.ok();
    s = Status::OK();
    if (in.action == IntentAction::kIngest) {
      // The manifest may already hold the record: the crash came after R.
      bool found = false;
      s = ctx_->manifest->Contains(in.manifest_path, in.manifest_line, &found);
      if (!s.ok()) return s;
      if (!found) {
        s = ctx_->manifest->Append(in.manifest_path, in.manifest_line);
        if (s.ok()) s = ctx_->manifest->Sync();
        if (!s.ok()) return s;
      }
    }
    bool unlinked = false;
    if (have_src) {
      std::optional<Status> source = UnlinkRedundantSource(env, src, in);
      if (source && !source->ok()) return *source;
      unlinked = source.has_value();
      std::optional<Status> sidecar = UnlinkSidecar(env, src, in);
      if (sidecar && !sidecar->ok() && !sidecar->IsNotFound()) return *sidecar;
      unlinked |= sidecar && sidecar->ok();
    }
    if (unlinked) {
      s = env->SyncFs(ctx_->input);
      if (!s.ok()) return s;
    }
    std::vector<StateWrite> writes{{keys::Intent(id), std::nullopt}};
    if (!in.snapshot_key.empty()) writes.push_back({in.snapshot_key, std::nullopt});
    if (in.action == IntentAction::kIngest) {
      const int64_t now_ns = ctx_->clock->NowNs();
      // A commit whose content record is already written was counted by the
      // pass that wrote it, and its hook queued with that record.
      std::string existing;
      Status got = ctx_->state->Get(keys::Content(in.sha256), &existing);
      if (!got.ok() && !got.IsNotFound()) return got;
      // A re-ingest of a missing original replaces an older record.
      ContentRecord rec;
      const bool first_commit = got.IsNotFound() || (DecodeContentRecord(existing, &rec) &&
                                                     rec.path != DestPath(*ctx_, in));
      if (first_commit) {
        ++stats_->files_ingested;
        stats_->bytes_ingested += in.size;
      }
      AddContentWrites(*ctx_, id, in, now_ns, /*queue_hook=*/first_commit, &writes);
    } else {
      ++stats_->duplicates;
    }
    ++stats_->recovered;
    spdlog::info("recovery: finished the commit of {}", SourcePath(*ctx_, in));
    return ctx_->state->Apply(writes, /*sync=*/true);
  }

  // An ingest found moved holds its content claim, unless a power loss took
  // the claim back before B2 and another instance has claimed the content
  // since (and then no manifest record of this commit is durable, since R
  // follows B2). Then the move is undone: the file goes back to staging, or
  // the copy is dropped (its source is still in staging, U follows R).
  Status KeepClaim(const std::string& id, const Intent& in, const File& dest, bool* at_dest) {
    if (ctx_->claims == nullptr) return Status::OK();
    std::vector<std::optional<Claim>> holders;
    Status s = ctx_->claims->Take({{ClaimOf(*ctx_, id, in), std::nullopt}}, &holders,
                                  /*sync=*/true);
    if (!s.ok() || !holders[0]) return s;
    spdlog::warn("recovery: content of {} was claimed by instance {} meanwhile; undoing its move",
                 SourcePath(*ctx_, in), holders[0]->owner);
    if (in.cross_fs()) {
      s = ctx_->env->Unlink(dest, in.dest_name);
    } else {
      File src;
      s = OpenDirs(ctx_->env, ctx_->input, in.src_dir, &src);
      if (s.ok()) s = PutBack(ctx_->env, dest, src, in);
    }
    if (s.ok()) *at_dest = false;
    return s;
  }

  Status RollBack(const std::string& id, const Intent& in) {
    Env* env = ctx_->env;
    if (in.action == IntentAction::kIngest && ctx_->claims != nullptr) {
      Status s = ctx_->claims->Release({ClaimOf(*ctx_, id, in)}, /*sync=*/false);
      if (!s.ok()) return s;
    }
    if (in.cross_fs() && ctx_->tmp_dir.isValid()) {
      Status s = env->Unlink(ctx_->tmp_dir, in.tmp_name);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    if (!in.sidecar_name.empty() && !in.cross_fs()) {
      // A crash between a put-back and its RearmSidecar.
      File src;
      bool rearmed = false;
      Status s = OpenDirs(env, ctx_->input, in.src_dir, &src);
      if (s.ok()) s = RearmSidecar(env, src, in, &rearmed);
      if (s.ok() && rearmed) s = env->SyncFs(ctx_->input);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
    ++stats_->recovered;
    spdlog::info("recovery: rolled back the commit of {}; it stays in staging",
                 SourcePath(*ctx_, in));
    return ctx_->state->Apply({{keys::Intent(id), std::nullopt}}, /*sync=*/true);
  }

  PassContext* ctx_;
  PassStats* stats_;
};

// Removes every entry of the temp directory: once intents are resolved,
// whatever is left there belongs to no commit.
Status EmptyTempDir(PassContext* ctx) {
  if (!ctx->tmp_dir.isValid()) return Status::OK();
  // Unlinking while listing may make getdents skip entries, so list a
  // bounded chunk, unlink it, and list again from the start.
  for (;;) {
    File dir;
    Status s = ctx->env->OpenDirAt(ctx->tmp_dir, ".", &dir);
    if (!s.ok()) return s;
    DirScanner scanner(ctx->env, &dir, 64 * 1024);
    std::vector<std::string> names;
    bool done = false;
    while (!done && names.size() < 4096) {
      DirEntry e;
      s = scanner.Next(&e, &done);
      if (!s.ok()) return s;
      if (!done) names.emplace_back(e.name);
    }
    if (names.empty()) return Status::OK();
    for (const std::string& name : names) {
      s = ctx->env->Unlink(ctx->tmp_dir, name);
      if (!s.ok() && !s.IsNotFound()) return s;
    }
  }
}

}  // namespace

Status RecoverIntents(PassContext* ctx, PassStats* stats) {
  // The journal's open batches join the intents left open in the state,
  // which are resolved one by one below.
  size_t moved = 0;
  Status s = ctx->journal->MoveOpenToState(&moved);
  if (!s.ok()) return s;
  if (moved > 0) spdlog::info("recovery: {} intents of unfinished batches", moved);
  // Ingests first, so that a duplicate's deletion can see whether the
  // content it duplicates made it.
  std::vector<std::pair<std::string, Intent>> ingests, others;
  Status bad;
  s = ctx->state->Scan(keys::kIntent, [&](std::string_view key, std::string_view value) {
    Intent in;
    std::string id(key.substr(keys::kIntent.size()));
    if (!DecodeIntent(value, &in)) {
      bad = Status::Corruption("state: undecodable intent " + id);
      return false;
    }
    (in.action == IntentAction::kIngest ? ingests : others).emplace_back(id, std::move(in));
    return true;
  });
  if (s.ok()) s = bad;
  if (!s.ok()) return s;
  IntentRecovery recovery(ctx, stats);
  for (auto* list : {&ingests, &others}) {
    for (const auto& [id, in] : *list) {
      s = recovery.Recover(id, in);
      if (!s.ok()) {
        // One stuck commit must not stop every other file: report it, keep
        // its intent for the next pass, and keep the scan off its source.
        ++stats->failed;
        spdlog::error("recovery of {}: {}", SourcePath(*ctx, in), s.ToString());
        ctx->unresolved.insert(in.src_ino);
        if (in.action == IntentAction::kIngest) {
          ctx->unresolved_claims.emplace(in.sha256, ClaimOf(*ctx, id, in));
        }
      }
    }
  }
  // With a commit still open, its temp copy must stay.
  return ctx->unresolved.empty() ? EmptyTempDir(ctx) : Status::OK();
}

}  // namespace ingest
