#pragma once

#include <string>

#include "env.h"

namespace ingest {

// Passes every call to `target`, in the manner of LevelDB's EnvWrapper: a
// test overrides the one call it wants to change. Thread-safe when `target`
// is.
class EnvWrapper : public Env {
 public:
  explicit EnvWrapper(Env* target) : target_(target) {}

  Status OpenDir(const std::string& path, File* dir) override {
    return target_->OpenDir(path, dir);
  }
  Status OpenDirAt(const File& parent, const std::string& name, File* dir) override {
    return target_->OpenDirAt(parent, name, dir);
  }
  Status MkdirAt(const File& parent, const std::string& name, mode_t mode) override {
    return target_->MkdirAt(parent, name, mode);
  }
  Status ReadDir(const File& dir, char* buf, size_t cap, size_t* len) override {
    return target_->ReadDir(dir, buf, cap, len);
  }
  Status SeekDir(const File& dir, int64_t offset) override { return target_->SeekDir(dir, offset); }
  Status StatAt(const File& dir, const std::string& name, FileStat* st) override {
    return target_->StatAt(dir, name, st);
  }
  Status Stat(const File& file, FileStat* st) override { return target_->Stat(file, st); }
  Status MountId(const File& file, uint64_t* id) override { return target_->MountId(file, id); }
  Status IsNetworkFs(const File& file, bool* network) override {
    return target_->IsNetworkFs(file, network);
  }
  Status HeldForWriting(const File& file, bool* held) override {
    return target_->HeldForWriting(file, held);
  }
  Status OpenAt(const File& dir, const std::string& name, int flags, mode_t mode,
                File* file) override {
    return target_->OpenAt(dir, name, flags, mode, file);
  }
  Status Read(const File& file, char* buf, size_t n, size_t* got) override {
    return target_->Read(file, buf, n, got);
  }
  Status ReadAt(const File& file, uint64_t offset, char* buf, size_t n, size_t* got) override {
    return target_->ReadAt(file, offset, buf, n, got);
  }
  Status Write(const File& file, std::string_view data) override {
    return target_->Write(file, data);
  }
  Status Truncate(const File& file, uint64_t size) override {
    return target_->Truncate(file, size);
  }
  Status Sync(const File& file) override { return target_->Sync(file); }
  Status DataSync(const File& file) override { return target_->DataSync(file); }
  Status SyncFs(const File& any_file_on_fs) override { return target_->SyncFs(any_file_on_fs); }
  Status SetMode(const File& file, mode_t mode) override { return target_->SetMode(file, mode); }
  Status SetOwner(const File& file, uid_t uid, gid_t gid) override {
    return target_->SetOwner(file, uid, gid);
  }
  Status SetMtime(const File& file, int64_t mtime_ns) override {
    return target_->SetMtime(file, mtime_ns);
  }
  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override {
    return target_->Rename(from_dir, from, to_dir, to);
  }
  Status ReplaceFile(const File& dir, const std::string& from, const std::string& to) override {
    return target_->ReplaceFile(dir, from, to);
  }
  Status Unlink(const File& dir, const std::string& name) override {
    return target_->Unlink(dir, name);
  }
  Status Symlink(const File& dir, const std::string& name, const std::string& target) override {
    return target_->Symlink(dir, name, target);
  }
  Status ReadLink(const File& dir, const std::string& name, std::string* target) override {
    return target_->ReadLink(dir, name, target);
  }
  Status Link(const File& from_dir, const std::string& from, const File& to_dir,
              const std::string& to) override {
    return target_->Link(from_dir, from, to_dir, to);
  }
  Status StatPath(const std::string& path, bool follow, FileStat* st) override {
    return target_->StatPath(path, follow, st);
  }
  Status RemoveDirAt(const File& dir, const std::string& name) override {
    return target_->RemoveDirAt(dir, name);
  }
  Status LockFile(const File& file) override { return target_->LockFile(file); }
  Status WaitLockFile(const File& file) override { return target_->WaitLockFile(file); }
  Status UnlockFile(const File& file) override { return target_->UnlockFile(file); }
  std::string HostName() override { return target_->HostName(); }

 private:
  Env* const target_;
};

}  // namespace ingest
