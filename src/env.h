#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "status.h"
#include "unique_fd.h"

namespace ingest {

// What the ingest path needs to know of an inode.
struct FileStat {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t nlink = 0;

  bool IsRegular() const;
  bool IsDirectory() const;
  // Same inode with the same size and timestamps: nothing was written since.
  bool SameContentIdentity(const FileStat& other) const {
    return dev == other.dev && ino == other.ino && size == other.size &&
           mtime_ns == other.mtime_ns && ctime_ns == other.ctime_ns;
  }
};

// An open file or directory, with the path it was opened by (for error
// messages and for test environments that track paths). Move-only.
class File {
 public:
  File() = default;
  File(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  int fd() const { return fd_.get(); }
  bool isValid() const { return fd_.isValid(); }
  const std::string& path() const { return path_; }
  // Gives up the descriptor, leaving this File invalid.
  UniqueFd TakeFd() { return std::move(fd_); }
  // "<dir path>/<name>"
  std::string Child(std::string_view name) const;

 private:
  UniqueFd fd_;
  std::string path_;
};

// Every filesystem call of the ingest path goes through an Env, in the
// manner of LevelDB's Env: one real implementation (PosixEnv) and test
// wrappers that fail the Nth call, crash after it, or drop what was never
// made durable. Descriptors are opened with O_CLOEXEC, and names inside a
// directory never follow a symlink.
//
// Implementations must be safe to call from several threads at once.
class Env {
 public:
  virtual ~Env() = default;

  // Opens a configured root directory by path; this is the only call that
  // follows symlinks, and only in the path given by the operator.
  virtual Status OpenDir(const std::string& path, File* dir) = 0;
  // Opens a directory entry of `parent` as a directory, never following a
  // symlink.
  virtual Status OpenDirAt(const File& parent, const std::string& name, File* dir) = 0;
  // mkdirat(). An existing entry gives a Status with err() == EEXIST.
  virtual Status MkdirAt(const File& parent, const std::string& name, mode_t mode) = 0;
  // One getdents64() call into `buf`; *len == 0 at the end of the listing.
  virtual Status ReadDir(const File& dir, char* buf, size_t cap, size_t* len) = 0;
  // Repositions a directory stream at a d_off cookie from an earlier listing.
  virtual Status SeekDir(const File& dir, int64_t offset) = 0;
  // fstatat(AT_SYMLINK_NOFOLLOW).
  virtual Status StatAt(const File& dir, const std::string& name, FileStat* st) = 0;
  // fstat().
  virtual Status Stat(const File& file, FileStat* st) = 0;
  // stat() or, without `follow`, lstat() of a path the operator gave (a
  // flag's value), before any root is open.
  virtual Status StatPath(const std::string& path, bool follow, FileStat* st) = 0;
  // The id of the mount `file` is on (statx STATX_MNT_ID). Two bind mounts
  // of one filesystem share st_dev, yet rename between them fails with
  // EXDEV. 0 when the kernel cannot tell.
  virtual Status MountId(const File& file, uint64_t* id) = 0;
  // True when the file lives on NFS, CIFS/SMB, FUSE or another filesystem
  // whose timestamps come from another clock.
  virtual Status IsNetworkFs(const File& file, bool* network) = 0;

  // Whether a process of this host holds `file` open for writing: a read
  // lease (F_SETLEASE, F_RDLCK), released at once, is refused then.
  // `file` must be open read-only. Fails (err() EACCES, EINVAL, ...) where
  // leases cannot be taken: not the file's owner and no CAP_LEASE, or a
  // filesystem without leases.
  virtual Status HeldForWriting(const File& file, bool* held) = 0;

  // openat() of a directory entry; O_CLOEXEC and O_NOFOLLOW are always added.
  virtual Status OpenAt(const File& dir, const std::string& name, int flags, mode_t mode,
                        File* file) = 0;
  // read(); *got == 0 at end of file.
  virtual Status Read(const File& file, char* buf, size_t n, size_t* got) = 0;
  // pread(); *got < n only at end of file.
  virtual Status ReadAt(const File& file, uint64_t offset, char* buf, size_t n, size_t* got) = 0;
  // Writes all of `data` at the current offset, or fails.
  virtual Status Write(const File& file, std::string_view data) = 0;
  virtual Status Truncate(const File& file, uint64_t size) = 0;
  // fsync(), fdatasync() and syncfs(): the durability barriers.
  virtual Status Sync(const File& file) = 0;
  virtual Status DataSync(const File& file) = 0;
  virtual Status SyncFs(const File& any_file_on_fs) = 0;
  // fchmod(), fchown(), futimens() for keeping a copy's metadata.
  virtual Status SetMode(const File& file, mode_t mode) = 0;
  virtual Status SetOwner(const File& file, uid_t uid, gid_t gid) = 0;
  virtual Status SetMtime(const File& file, int64_t mtime_ns) = 0;

  // renameat2(RENAME_NOREPLACE): never replaces an existing entry (err()
  // EEXIST), and gives err() EXDEV across filesystems.
  virtual Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                        const std::string& to) = 0;
  // linkat() without following a symlink: a second name for the file
  // `from`, created atomically or not at all (err() EEXIST when `to`
  // exists, also between clients of a network filesystem). For moves where
  // renameat2 takes no flags.
  virtual Status Link(const File& from_dir, const std::string& from, const File& to_dir,
                      const std::string& to) = 0;
  // symlinkat(): a new name holding `target`, created atomically with its
  // content or not at all (err() EEXIST when `name` exists, also between
  // clients of a network filesystem). For content claims (claims.h).
  virtual Status Symlink(const File& dir, const std::string& name, const std::string& target) = 0;
  // readlinkat(): the target of the symlink `name`.
  virtual Status ReadLink(const File& dir, const std::string& name, std::string* target) = 0;
  // rename() within one directory, replacing `to` if it exists: only for
  // files atomic-ingest owns outright (the metrics file).
  virtual Status ReplaceFile(const File& dir, const std::string& from, const std::string& to) = 0;
  virtual Status Unlink(const File& dir, const std::string& name) = 0;
  // unlinkat(AT_REMOVEDIR): removes an empty directory.
  virtual Status RemoveDirAt(const File& dir, const std::string& name) = 0;
  // flock(LOCK_EX | LOCK_NB); Busy when another process holds it. The lock
  // lives as long as `file` stays open.
  virtual Status LockFile(const File& file) = 0;

  // flock(LOCK_EX), waiting for another holder (of this host or, where the
  // filesystem honours flock across clients, another) to let go. Polls with
  // LOCK_NB (1 ms, doubling up to 50 ms) instead of blocking in the call.
  virtual Status WaitLockFile(const File& file) = 0;
  // flock(LOCK_UN).
  virtual Status UnlockFile(const File& file) = 0;

  // This host's name (gethostname), for reports of which host ran a pass;
  // "" if it cannot be had.
  virtual std::string HostName() = 0;

  // The process-wide PosixEnv.
  static Env* Default();
};

}  // namespace ingest
