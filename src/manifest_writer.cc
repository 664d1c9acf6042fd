#include "manifest_writer.h"

#include <fcntl.h>

#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"

namespace ingest {

namespace {

constexpr size_t kTailChunk = 4096;

}  // namespace

Status TruncateTornTail(Env* env, const File& file, bool* repaired) {
  *repaired = false;
  FileStat st;
  Status s = env->Stat(file, &st);
  if (!s.ok() || st.size == 0) return s;
  char buf[kTailChunk];
  uint64_t end = st.size;
  while (end > 0) {
    uint64_t start = end > kTailChunk ? end - kTailChunk : 0;
    size_t got = 0;
    s = env->ReadAt(file, start, buf, static_cast<size_t>(end - start), &got);
    if (!s.ok()) return s;
    for (size_t i = got; i > 0; --i) {
      if (buf[i - 1] == '\n') {
        uint64_t keep = start + i;
        if (keep == st.size) return Status::OK();
        *repaired = true;
        return env->Truncate(file, keep);
      }
    }
    end = start;
  }
  *repaired = true;
  return env->Truncate(file, 0);
}

Status ManifestWriter::Open(const std::string& hour_dir, bool create, OpenManifest** out) {
  auto it = files_.find(hour_dir);
  if (it != files_.end()) {
    *out = &it->second;
    return Status::OK();
  }
  File dir;
  Status s;
  if (create) {
    bool created = false;
    s = OpenOrCreateDirs(env_, *root_, hour_dir, &dir, &created);
    created_ |= created;
  } else {
    s = OpenDirs(env_, *root_, hour_dir, &dir);
  }
  if (!s.ok()) return s;
  std::string name(kManifestFileName);
  OpenManifest m;
  FileStat before;
  bool existed = env_->StatAt(dir, name, &before).ok();
  int flags = create ? O_RDWR | O_APPEND | O_CREAT : O_RDONLY;
  s = env_->OpenAt(dir, name, flags, 0664, &m.file);  // never world-writable
  if (!s.ok()) return s;
  created_ |= !existed;
  *out = &files_.emplace(hour_dir, std::move(m)).first->second;
  return Status::OK();
}

Status ManifestWriter::Lock(OpenManifest* m) {
  if (m->locked) return Status::OK();
  Status s = env_->WaitLockFile(m->file);
  if (!s.ok()) return s;
  m->locked = true;
  // What other writers appended since is theirs; only a torn tail is no
  // one's (its writer died before its Sync, so nothing committed it).
  bool repaired = false;
  s = TruncateTornTail(env_, m->file, &repaired);
  // The truncation is made durable by the Sync() that follows the append.
  m->dirty |= repaired;
  FileStat st;
  if (s.ok()) s = env_->Stat(m->file, &st);
  if (!s.ok()) {
    Unlock(m);
    return s;
  }
  m->synced_size = st.size;
  return Status::OK();
}

void ManifestWriter::Unlock(OpenManifest* m) {
  if (!m->locked) return;
  // Closing the file would release it too; the writer keeps the newest
  // hour open, so it lets go now, and a failure leaves the lock to the
  // close.
  (void)env_->UnlockFile(m->file);
  m->locked = false;
}

Status ManifestWriter::Append(const std::string& hour_dir, std::string_view lines) {
  OpenManifest* m = nullptr;
  Status s = Open(hour_dir, /*create=*/true, &m);
  if (s.ok()) s = Lock(m);
  if (!s.ok()) return s;
  m->dirty = true;
  return env_->Write(m->file, lines);
}

Status ManifestWriter::Sync() {
  for (auto& [hour, m] : files_) {
    if (!m.dirty) continue;
    Status s = env_->DataSync(m.file);
    if (!s.ok()) return s;
  }
  if (created_) {
    // New directories and the new file's own entry are metadata that
    // fdatasync of the file does not cover.
    Status s = env_->SyncFs(*root_);
    if (!s.ok()) return s;
    created_ = false;
  }
  for (auto& [hour, m] : files_) {
    if (!m.dirty) continue;
    FileStat st;
    Status s = env_->Stat(m.file, &st);
    if (!s.ok()) return s;
    m.synced_size = st.size;
    m.dirty = false;
    Unlock(&m);
  }
  // Keep only the newest hour open; a pass rarely spans more than two.
  while (files_.size() > 1) files_.erase(files_.begin());
  return Status::OK();
}

void ManifestWriter::Rollback() {
  for (auto& [hour, m] : files_) {
    // Best effort: the Sync already failed, and the pass stops with that
    // error; the records were never made durable, so they commit nothing.
    if (m.dirty) (void)env_->Truncate(m.file, m.synced_size);
    m.dirty = false;
    Unlock(&m);
  }
}

Status ManifestWriter::Contains(const std::string& hour_dir, std::string_view line, bool* found) {
  *found = false;
  OpenManifest* m = nullptr;
  Status s = Open(hour_dir, /*create=*/true, &m);
  if (!s.ok()) return s;
  std::string_view want = line;
  if (!want.empty() && want.back() == '\n') want.remove_suffix(1);
  ManifestLineReader reader(env_, m->file);
  for (;;) {
    ManifestLine l;
    bool done = false;
    s = reader.Next(&l, &done);
    if (!s.ok() || done) return s;
    if (l.text == want) {
      *found = true;
      return Status::OK();
    }
  }
}

}  // namespace ingest
