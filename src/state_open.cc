#include "state_open.h"

#include <fcntl.h>

#include "fs_util.h"
#include "mem_state_store.h"
#include "state_check.h"
#include "state_layout.h"
#include "state_shard.h"

namespace ingest {

namespace {

// Whether the database `db` exists (LevelDB's CURRENT file), through
// symlinks as LevelDB opens it.
bool HasDatabase(Env* env, const std::string& db) {
  FileStat st;
  return env->StatPath(JoinPath(db, "CURRENT"), /*follow=*/true, &st).ok();
}

}  // namespace

Status LockState(Env* env, const Options& o, bool read_only, File* dir, File* lock) {
  Status s = env->OpenDir(o.state_path, dir);
  if (s.IsNotFound() && !read_only) {
    File root;
    bool created = false;
    File made;
    s = env->OpenDir("/", &root);
    if (s.ok()) {
      s = OpenOrCreateDirs(env, root, std::string_view(o.state_path).substr(1), &made, &created);
    }
    if (s.ok()) s = env->OpenDir(o.state_path, dir);
  }
  if (!s.ok()) return s;
  s = env->LockFile(*dir);
  if (!s.ok()) return s;
  s = env->OpenAt(*dir, kStateLockName, read_only ? O_RDONLY : O_RDWR | O_CREAT, 0640, lock);
  if (read_only && s.IsNotFound()) return Status::OK();
  return s.ok() ? env->LockFile(*lock) : s;
}

Status OpenLockedState(Env* env, const Options& o, LockedState* out) {
  Status s = LockState(env, o, o.dry_run, &out->dir, &out->lock);
  if (!s.ok() && !(o.dry_run && s.IsNotFound())) return s;
  const std::string db = JoinPath(o.state_path, kStateDbName);
  if (o.dry_run) {
    // Plan against a copy, or an empty state before the first run.
    if (s.ok()) s = OpenLevelDbSnapshot(db, &out->store);
    if (s.IsNotFound()) {
      out->store = std::make_unique<MemStateStore>();
      return Status::OK();
    }
    if (s.ok()) s = UpgradeStateLayout(out->store.get());
    return s.ok() ? BindStateShard(out->store.get(), o, /*write=*/false) : s;
  }
  // Records of other instances sharing the manifest root do not count: a
  // new instance starts beside them.
  if (!HasDatabase(env, db) && ManifestsHoldRecordsFrom(env, o.manifests, o.input, o.shard)) {
    return Status::Corruption("state database " + db + " is missing, but the manifests in " +
                              o.manifests + " hold records of files from " + o.input +
                              "; run 'atomic-ingest rebuild-state' to rebuild it from them");
  }
  s = OpenLevelDbStore(db, /*create=*/true, &out->store);
  if (s.ok()) s = UpgradeStateLayout(out->store.get());
  return s.ok() ? BindStateShard(out->store.get(), o, /*write=*/true) : s;
}

Status OpenStateForReading(const Options& o, std::unique_ptr<StateStore>* state, bool* exists) {
  Status s = OpenLevelDbSnapshot(JoinPath(o.state_path, kStateDbName), state);
  *exists = s.ok();
  if (s.IsNotFound()) {
    *state = std::make_unique<MemStateStore>();
    return Status::OK();
  }
  if (s.ok()) s = UpgradeStateLayout(state->get());
  return s.ok() ? BindStateShard(state->get(), o, /*write=*/false) : s;
}

}  // namespace ingest
