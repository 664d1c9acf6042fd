#include "fault_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>

namespace ingest {

namespace {

constexpr uint64_t kForeignDevShift = uint64_t{1} << 40;

// "a/./b/." -> "a/b": File::path() of a directory reopened as "." keeps
// the dot.
std::string Clean(std::string p) {
  for (size_t i; (i = p.find("/./")) != std::string::npos;) p.erase(i, 2);
  while (p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0) p.resize(p.size() - 2);
  return p;
}

bool Under(const std::string& path, const std::string& root) {
  return !root.empty() && path.compare(0, root.size(), root) == 0 &&
         (path.size() == root.size() || path[root.size()] == '/');
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

Status CrashStatus(const std::string& what) {
  return Status::IOError("simulated crash before " + what, EIO);
}

}  // namespace

FaultEnv::FaultEnv(std::string tree, std::string foreign_root, std::string scratch)
    : real_(Env::Default()),
      tree_(std::move(tree)),
      foreign_root_(std::move(foreign_root)),
      scratch_(std::move(scratch)) {}

bool FaultEnv::Crashed(Status* s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!crashed_) return false;
  *s = CrashStatus("a read");
  return true;
}

bool FaultEnv::Count(const std::string& what, Status* s) {
  if (turns_ != nullptr) turns_->Turn(what);
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) {
    *s = CrashStatus(what);
    return false;
  }
  ++ops_;
  if (ops_ > crash_after_) {
    crashed_ = true;
    last_op_ = what;
    *s = CrashStatus(what);
    return false;
  }
  if (ops_ == fail_at_ || ops_ >= fail_from_) {
    last_op_ = what;
    *s = Status::FromErrno("injected failure of " + what, fail_errno_);
    return false;
  }
  return true;
}

bool FaultEnv::BeforeOp(const char* what, Status* s) { return Count(what, s); }

int FaultEnv::FsOf(const std::string& path) const { return Under(path, foreign_root_) ? 1 : 0; }

void FaultEnv::Fake(const std::string& path, FileStat* st) const {
  if (FsOf(path) == 1) st->dev += kForeignDevShift;
  st->dev += mount_dev_shift_;
}

void FaultEnv::Log(int fs, NamespaceOp op) {
  std::lock_guard<std::mutex> lock(mu_);
  log_[fs].push_back(std::move(op));
}

void FaultEnv::TrackSize(const File& file, bool created) {
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = files_.try_emplace(st.st_ino);
  FileData& d = it->second;
  if (inserted) {
    d.fs = FsOf(Clean(file.path()));
    d.durable_size = created ? 0 : static_cast<uint64_t>(st.st_size);
  }
  d.size = static_cast<uint64_t>(st.st_size);
  if (d.durable_size > d.size) d.durable_size = d.size;
}

void FaultEnv::MarkUnsynced(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  FileData& d = files_[st.st_ino];
  d.fs = FsOf(path);
  d.size = static_cast<uint64_t>(st.st_size);
  d.durable_size = 0;
}

void FaultEnv::MarkFsDurable(int fs) {
  std::lock_guard<std::mutex> lock(mu_);
  for (NamespaceOp& op : log_[fs]) op.durable = true;
  for (auto& [ino, d] : files_) {
    if (d.fs == fs) d.durable_size = d.size;
  }
}

void FaultEnv::PowerLoss(PowerLossMode mode) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool torn = mode == PowerLossMode::kTornWrites;
  for (auto& log : log_) {
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      if (it->durable || mode == PowerLossMode::kMetadataOnly) continue;
      switch (it->kind) {
        case OpKind::kCreate:
          ::unlink(it->path.c_str());
          break;
        case OpKind::kMkdir:
          ::rmdir(it->path.c_str());
          break;
        case OpKind::kRename:
          ::renameat2(AT_FDCWD, it->to.c_str(), AT_FDCWD, it->path.c_str(), RENAME_NOREPLACE);
          break;
        case OpKind::kUnlink:
          ::renameat2(AT_FDCWD, it->graveyard.c_str(), AT_FDCWD, it->path.c_str(),
                      RENAME_NOREPLACE);
          break;
      }
    }
    log.clear();
  }
  // Data: whatever was written since the file's last sync is lost (or, when
  // torn, half of it survives).
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tree_)) {
    struct stat st;
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto it = files_.find(st.st_ino);
    if (it == files_.end()) continue;
    const FileData& d = it->second;
    uint64_t keep = d.durable_size;
    if (torn && d.size > d.durable_size) keep += (d.size - d.durable_size) / 2;
    if (keep < static_cast<uint64_t>(st.st_size)) {
      (void)::truncate(entry.path().c_str(), static_cast<off_t>(keep));
    }
  }
  files_.clear();
}

Status FaultEnv::OpenDir(const std::string& path, File* dir) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->OpenDir(path, dir);
}

Status FaultEnv::OpenDirAt(const File& parent, const std::string& name, File* dir) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->OpenDirAt(parent, name, dir);
}

Status FaultEnv::MkdirAt(const File& parent, const std::string& name, mode_t mode) {
  const std::string path = Clean(parent.Child(name));
  Status s;
  if (!Count("mkdir " + path, &s)) return s;
  s = real_->MkdirAt(parent, name, mode);
  if (s.ok()) Log(FsOf(path), {OpKind::kMkdir, path, "", "", false});
  return s;
}

Status FaultEnv::ReadDir(const File& dir, char* buf, size_t cap, size_t* len) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->ReadDir(dir, buf, cap, len);
}

Status FaultEnv::SeekDir(const File& dir, int64_t offset) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->SeekDir(dir, offset);
}

Status FaultEnv::StatAt(const File& dir, const std::string& name, FileStat* st) {
  Status s;
  if (Crashed(&s)) return s;
  s = real_->StatAt(dir, name, st);
  if (s.ok()) Fake(Clean(dir.Child(name)), st);
  return s;
}

Status FaultEnv::Stat(const File& file, FileStat* st) {
  Status s;
  if (Crashed(&s)) return s;
  s = real_->Stat(file, st);
  if (s.ok()) Fake(Clean(file.path()), st);
  return s;
}

Status FaultEnv::MountId(const File&, uint64_t* id) {
  Status s;
  if (Crashed(&s)) return s;
  // The second filesystem is simulated by st_dev alone.
  *id = 0;
  return Status::OK();
}

Status FaultEnv::IsNetworkFs(const File& file, bool* network) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->IsNetworkFs(file, network);
}

Status FaultEnv::HeldForWriting(const File& file, bool* held) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->HeldForWriting(file, held);
}

Status FaultEnv::OpenAt(const File& dir, const std::string& name, int flags, mode_t mode,
                        File* file) {
  const std::string path = Clean(dir.Child(name));
  Status s;
  const bool writes = (flags & (O_WRONLY | O_RDWR)) != 0;
  if (!writes) {
    if (Crashed(&s)) return s;
    return real_->OpenAt(dir, name, flags, mode, file);
  }
  FileStat before;
  const bool existed = real_->StatAt(dir, name, &before).ok();
  if ((flags & O_CREAT) && !existed) {
    if (!Count("create " + path, &s)) return s;
  } else if (Crashed(&s)) {
    return s;
  }
  s = real_->OpenAt(dir, name, flags, mode, file);
  if (!s.ok()) return s;
  if (!existed) Log(FsOf(path), {OpKind::kCreate, path, "", "", false});
  TrackSize(*file, !existed);
  return s;
}

Status FaultEnv::Read(const File& file, char* buf, size_t n, size_t* got) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->Read(file, buf, n, got);
}

Status FaultEnv::ReadAt(const File& file, uint64_t offset, char* buf, size_t n, size_t* got) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->ReadAt(file, offset, buf, n, got);
}

Status FaultEnv::Write(const File& file, std::string_view data) {
  Status s;
  if (!Count("write " + Clean(file.path()), &s)) return s;
  s = real_->Write(file, data);
  TrackSize(file, false);
  return s;
}

Status FaultEnv::Truncate(const File& file, uint64_t size) {
  Status s;
  if (!Count("truncate " + Clean(file.path()), &s)) return s;
  s = real_->Truncate(file, size);
  TrackSize(file, false);
  return s;
}

Status FaultEnv::Sync(const File& file) {
  const std::string path = Clean(file.path());
  Status s;
  if (!Count("fsync " + path, &s)) return s;
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  if (S_ISDIR(st.st_mode)) {
    // fsync of a directory makes the entries created, removed or renamed
    // in it durable.
    for (NamespaceOp& op : log_[FsOf(path)]) {
      if (Parent(op.path) == path || (!op.to.empty() && Parent(op.to) == path)) op.durable = true;
    }
  } else if (auto it = files_.find(st.st_ino); it != files_.end()) {
    it->second.durable_size = it->second.size;
  }
  return Status::OK();
}

Status FaultEnv::DataSync(const File& file) {
  Status s;
  if (!Count("fdatasync " + Clean(file.path()), &s)) return s;
  struct stat st;
  if (::fstat(file.fd(), &st) != 0) return Status::OK();
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(st.st_ino); it != files_.end()) {
    it->second.durable_size = it->second.size;
  }
  return Status::OK();
}

Status FaultEnv::SyncFs(const File& any_file_on_fs) {
  const std::string path = Clean(any_file_on_fs.path());
  Status s;
  if (!Count("syncfs " + path, &s)) return s;
  MarkFsDurable(FsOf(path));
  return Status::OK();
}

Status FaultEnv::SetMode(const File& file, mode_t mode) {
  Status s;
  if (!Count("chmod " + Clean(file.path()), &s)) return s;
  return real_->SetMode(file, mode);
}

Status FaultEnv::SetOwner(const File& file, uid_t uid, gid_t gid) {
  Status s;
  if (!Count("chown " + Clean(file.path()), &s)) return s;
  return real_->SetOwner(file, uid, gid);
}

Status FaultEnv::SetMtime(const File& file, int64_t mtime_ns) {
  Status s;
  if (!Count("utimens " + Clean(file.path()), &s)) return s;
  return real_->SetMtime(file, mtime_ns);
}

Status FaultEnv::Rename(const File& from_dir, const std::string& from, const File& to_dir,
                        const std::string& to) {
  const std::string a = Clean(from_dir.Child(from));
  const std::string b = Clean(to_dir.Child(to));
  Status s;
  if (!Count("rename " + a + " -> " + b, &s)) return s;
  if (reject_rename_flags_) return Status::FromErrno("cannot rename " + a + " to " + b, EINVAL);
  if (FsOf(a) != FsOf(b)) return Status::FromErrno("cannot rename " + a + " to " + b, EXDEV);
  s = real_->Rename(from_dir, from, to_dir, to);
  if (s.ok()) Log(FsOf(a), {OpKind::kRename, a, b, "", false});
  return s;
}

Status FaultEnv::ReplaceFile(const File& dir, const std::string& from, const std::string& to) {
  const std::string a = Clean(dir.Child(from));
  Status s;
  if (!Count("replace " + a + " -> " + Clean(dir.Child(to)), &s)) return s;
  // Not modelled for power loss: only the metrics file uses it.
  return real_->ReplaceFile(dir, from, to);
}

Status FaultEnv::Unlink(const File& dir, const std::string& name) {
  const std::string path = Clean(dir.Child(name));
  Status s;
  if (!Count("unlink " + path, &s)) return s;
  FileStat st;
  s = real_->StatAt(dir, name, &st);
  if (!s.ok()) return s;
  // Unique across every FaultEnv of the process: runs share the scratch.
  static std::atomic<uint64_t> graveyard_seq{0};
  const std::string grave = scratch_ + "/" + std::to_string(graveyard_seq++);
  // Kept aside, not removed, so that a power loss can bring it back.
  if (::renameat2(dir.fd(), name.c_str(), AT_FDCWD, grave.c_str(), RENAME_NOREPLACE) != 0) {
    return Status::FromErrno("cannot remove " + path, errno);
  }
  Log(FsOf(path), {OpKind::kUnlink, path, "", grave, false});
  return Status::OK();
}

Status FaultEnv::Link(const File& from_dir, const std::string& from, const File& to_dir,
                      const std::string& to) {
  const std::string a = Clean(from_dir.Child(from));
  const std::string b = Clean(to_dir.Child(to));
  Status s;
  if (!Count("link " + a + " -> " + b, &s)) return s;
  if (FsOf(a) != FsOf(b)) return Status::FromErrno("cannot link " + a + " as " + b, EXDEV);
  s = real_->Link(from_dir, from, to_dir, to);
  // Undone by a power loss like a create; the inode's data is tracked once.
  if (s.ok()) Log(FsOf(b), {OpKind::kCreate, b, "", "", false});
  return s;
}

Status FaultEnv::Symlink(const File& dir, const std::string& name, const std::string& target) {
  const std::string path = Clean(dir.Child(name));
  Status s;
  if (!Count("symlink " + path, &s)) return s;
  s = real_->Symlink(dir, name, target);
  // The target is part of the inode: a power loss keeps the whole link or
  // nothing.
  if (s.ok()) Log(FsOf(path), {OpKind::kCreate, path, "", "", false});
  return s;
}

Status FaultEnv::ReadLink(const File& dir, const std::string& name, std::string* target) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->ReadLink(dir, name, target);
}

Status FaultEnv::StatPath(const std::string& path, bool follow, FileStat* st) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->StatPath(path, follow, st);
}

Status FaultEnv::RemoveDirAt(const File& dir, const std::string& name) {
  Status s;
  if (!Count("rmdir " + Clean(dir.Child(name)), &s)) return s;
  return real_->RemoveDirAt(dir, name);
}

Status FaultEnv::WaitLockFile(const File& file) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->WaitLockFile(file);
}

Status FaultEnv::UnlockFile(const File& file) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->UnlockFile(file);
}

Status FaultEnv::LockFile(const File& file) {
  Status s;
  if (Crashed(&s)) return s;
  return real_->LockFile(file);
}

Status FaultStateStore::Get(std::string_view key, std::string* value) {
  return base_->Get(key, value);
}

Status FaultStateStore::Apply(const std::vector<StateWrite>& batch, bool sync) {
  Status s;
  if (!env_->BeforeOp(sync ? "state write (sync)" : "state write", &s)) return s;
  return base_->Apply(batch, sync);
}

Status FaultStateStore::Scan(std::string_view prefix,
                             const std::function<bool(std::string_view, std::string_view)>& fn) {
  return base_->Scan(prefix, fn);
}

}  // namespace ingest
