#include "intent_effects.h"

#include "fs_util.h"
#include "hooks.h"
#include "manifest.h"

namespace ingest {

std::string SourcePath(const PassContext& ctx, const Intent& in) {
  return JoinPath(ctx.input.path(), JoinPath(in.src_dir, in.src_name));
}

std::string DestPath(const PassContext& ctx, const Intent& in) {
  return JoinPath(ctx.warehouse.path(), JoinPath(in.dest_dir, in.dest_name));
}

Claim ClaimOf(const PassContext& ctx, const std::string& id, const Intent& in) {
  return Claim{in.sha256, ctx.claim_owner, id, in.size, JoinPath(in.dest_dir, in.dest_name)};
}

std::optional<Status> UnlinkRedundantSource(Env* env, const File& src_dir, const Intent& in) {
  // One stat tells both what the name holds and whether it is unchanged.
  FileStat st;
  if (!env->StatAt(src_dir, in.src_name, &st).ok()) return std::nullopt;
  // A same-filesystem move by link() leaves the source's name on the moved
  // inode until it is unlinked.
  const bool left_by_link = st.ino == in.moved_ino;
  const bool redundant = in.cross_fs() || in.action == IntentAction::kDelete || left_by_link;
  const bool unchanged = st.ino == in.src_ino && st.size == in.size && st.mtime_ns == in.mtime_ns;
  if (!redundant || !unchanged) return std::nullopt;
  return env->Unlink(src_dir, in.src_name);
}

std::optional<Status> UnlinkSidecar(Env* env, const File& src_dir, const Intent& in) {
  if (in.sidecar_name.empty()) return std::nullopt;
  return env->Unlink(src_dir, in.sidecar_name);
}

void AddContentWrites(const PassContext& ctx, const std::string& id, const Intent& in,
                      int64_t now_ns, bool queue_hook, std::vector<StateWrite>* writes) {
  ContentRecord rec;
  rec.path = DestPath(ctx, in);
  rec.source = SourcePath(ctx, in);
  rec.manifest =
      JoinPath(ctx.manifests.path(), JoinPath(in.manifest_path, std::string(kManifestFileName)));
  rec.size = in.size;
  rec.ingested_at_ns = now_ns;
  writes->push_back({keys::Content(in.sha256), EncodeContentRecord(rec)});
  if (queue_hook && HooksEnabled(*ctx.options)) {
    writes->push_back(PendingHookWrite(id, in, rec, now_ns));
  }
}

}  // namespace ingest
