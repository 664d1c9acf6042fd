#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "env.h"
#include "mem_state_store.h"
#include "turn_scheduler.h"

namespace ingest {

// An Env for crash tests, in the manner of LevelDB's FaultInjectionTestEnv.
// It passes calls to the real Env and counts every operation that changes
// something (creates, writes, renames, unlinks, syncs, state writes). It
// can:
//   - fail the Nth operation with an errno, leaving it undone;
//   - crash after the Nth operation: every later call fails and does
//     nothing, as if the process had been killed;
//   - simulate power loss (PowerLoss()): undo every namespace change and
//     drop every file byte not yet made durable by fsync, fdatasync or
//     syncfs, per filesystem.
// Paths under `foreign_root` act as a second filesystem: their st_dev is
// shifted, renames into or out of it fail with EXDEV, and syncfs covers
// only its own side. The real syncs are skipped: durability is modelled.
// Thread-safe.
class FaultEnv final : public Env {
 public:
  // `tree` holds everything the test's runs touch; `foreign_root` (inside
  // it, or empty) is the second filesystem; `scratch` is a directory on the
  // same real filesystem, outside `tree`, where unlinked files wait in case
  // a power loss revives them.
  FaultEnv(std::string tree, std::string foreign_root, std::string scratch);

  void CrashAfter(uint64_t n) { crash_after_ = n; }
  void FailAt(uint64_t n, int err) {
    fail_at_ = n;
    fail_errno_ = err;
  }
  // Fails operation n and every one after it with `err`, as a lost mount
  // does (ENOTCONN from a FUSE filesystem whose daemon died, ESTALE or EIO
  // from NFS).
  void FailFrom(uint64_t n, int err) {
    fail_from_ = n;
    fail_errno_ = err;
  }
  // Makes Rename fail with EINVAL, as renameat2(RENAME_NOREPLACE) does on
  // CephFS, NFS, CIFS and FUSE filesystems.
  void RejectRenameFlags() { reject_rename_flags_ = true; }
  // Presents every st_dev shifted, as another host or another mount of
  // the same network filesystem sees the same files: same inode numbers,
  // other device numbers.
  void SeeThroughAnotherMount() { mount_dev_shift_ = uint64_t{1} << 48; }
  // Orders the operations of the threads that use this Env with
  // `scheduler`: every operation takes its turn first.
  void OrderThreads(std::unique_ptr<TurnScheduler> scheduler) { turns_ = std::move(scheduler); }
  TurnScheduler* turns() const { return turns_.get(); }
  uint64_t ops() const { return ops_; }
  bool crashed() const { return crashed_; }
  // Op numbers of the failed or crashed operation and what it was.
  std::string last_op() const { return last_op_; }

  // What a power loss keeps of what was never made durable.
  enum class PowerLossMode {
    // Namespace changes undone, unsynced bytes dropped.
    kDropUnsynced,
    // As kDropUnsynced, but half of each file's unsynced bytes survive,
    // leaving torn tails.
    kTornWrites,
    // Every namespace change survives (the journal committed it on its
    // own) but unsynced bytes are dropped: a renamed file can come back
    // empty or short. The case that needs data synced before a rename.
    kMetadataOnly,
  };
  // Treats the data of the file at `path` as never synced, as an upstream
  // writer that did not fsync leaves it.
  void MarkUnsynced(const std::string& path);

  // Applies a power loss to the tree. Call after a crash, before the next
  // run opens its own FaultEnv.
  void PowerLoss(PowerLossMode mode);

  // Counts one operation of another component (the state store). Returns
  // false when it must not happen.
  bool BeforeOp(const char* what, Status* s);

  // Env:
  Status OpenDir(const std::string& path, File* dir) override;
  Status OpenDirAt(const File& parent, const std::string& name, File* dir) override;
  Status MkdirAt(const File& parent, const std::string& name, mode_t mode) override;
  Status ReadDir(const File& dir, char* buf, size_t cap, size_t* len) override;
  Status SeekDir(const File& dir, int64_t offset) override;
  Status StatAt(const File& dir, const std::string& name, FileStat* st) override;
  Status Stat(const File& file, FileStat* st) override;
  Status MountId(const File& file, uint64_t* id) override;
  Status IsNetworkFs(const File& file, bool* network) override;
  Status HeldForWriting(const File& file, bool* held) override;
  Status OpenAt(const File& dir, const std::string& name, int flags, mode_t mode,
                File* file) override;
  Status Read(const File& file, char* buf, size_t n, size_t* got) override;
  Status ReadAt(const File& file, uint64_t offset, char* buf, size_t n, size_t* got) override;
  Status Write(const File& file, std::string_view data) override;
  Status Truncate(const File& file, uint64_t size) override;
  Status Sync(const File& file) override;
  Status DataSync(const File& file) override;
  Status SyncFs(const File& any_file_on_fs) override;
  Status SetMode(const File& file, mode_t mode) override;
  Status SetOwner(const File& file, uid_t uid, gid_t gid) override;
  Status SetMtime(const File& file, int64_t mtime_ns) override;
  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override;
  Status ReplaceFile(const File& dir, const std::string& from, const std::string& to) override;
  Status Unlink(const File& dir, const std::string& name) override;
  Status Link(const File& from_dir, const std::string& from, const File& to_dir,
              const std::string& to) override;
  Status Symlink(const File& dir, const std::string& name, const std::string& target) override;
  Status ReadLink(const File& dir, const std::string& name, std::string* target) override;
  Status StatPath(const std::string& path, bool follow, FileStat* st) override;
  // Counted and failed like any write; never undone by a simulated power
  // loss (no pass removes a directory: rebuild-state does, outside the
  // crash enumeration).
  Status RemoveDirAt(const File& dir, const std::string& name) override;
  Status LockFile(const File& file) override;
  Status WaitLockFile(const File& file) override;
  Status UnlockFile(const File& file) override;
  std::string HostName() override { return real_->HostName(); }

 private:
  enum class OpKind { kCreate, kMkdir, kRename, kUnlink };
  struct NamespaceOp {
    OpKind kind;
    std::string path;       // created, removed or renamed-from path
    std::string to;         // rename target
    std::string graveyard;  // where an unlinked file waits
    bool durable = false;
  };
  struct FileData {
    int fs = 0;
    uint64_t size = 0;
    uint64_t durable_size = 0;
  };

  // Counts a mutating operation; false (with *s set) when it must fail.
  bool Count(const std::string& what, Status* s);
  bool Crashed(Status* s);
  int FsOf(const std::string& path) const;
  void Fake(const std::string& path, FileStat* st) const;
  void Log(int fs, NamespaceOp op);
  void MarkFsDurable(int fs);
  // Records the size of an open file after a change; `created` files start
  // with nothing durable.
  void TrackSize(const File& file, bool created);

  Env* const real_;
  const std::string tree_;
  const std::string foreign_root_;
  const std::string scratch_;

  mutable std::mutex mu_;
  uint64_t ops_ = 0;
  uint64_t crash_after_ = UINT64_MAX;
  uint64_t fail_at_ = UINT64_MAX;
  uint64_t fail_from_ = UINT64_MAX;
  int fail_errno_ = 0;
  bool crashed_ = false;
  bool reject_rename_flags_ = false;
  uint64_t mount_dev_shift_ = 0;
  std::string last_op_;
  std::vector<NamespaceOp> log_[2];
  // Real inode number -> what is durable of its data.
  std::map<uint64_t, FileData> files_;
  // Last, so that it stops before the rest goes.
  std::unique_ptr<TurnScheduler> turns_;
};

// A MemStateStore whose writes are operations of a FaultEnv: they can fail
// or be cut off by a crash, and PowerLoss drops what was never synced.
class FaultStateStore final : public StateStore {
 public:
  FaultStateStore(MemStateStore* base, FaultEnv* env) : base_(base), env_(env) {}
  Status Get(std::string_view key, std::string* value) override;
  Status Apply(const std::vector<StateWrite>& batch, bool sync) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;
  std::unique_ptr<StateIterator> NewIterator() override { return base_->NewIterator(); }
  uint64_t ApproximateSize() override { return base_->ApproximateSize(); }

 private:
  MemStateStore* base_;
  FaultEnv* env_;
};

}  // namespace ingest
