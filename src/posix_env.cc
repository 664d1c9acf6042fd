#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <thread>

#include "env.h"

namespace ingest {

bool FileStat::IsRegular() const { return S_ISREG(mode); }
bool FileStat::IsDirectory() const { return S_ISDIR(mode); }

std::string File::Child(std::string_view name) const {
  std::string out = path_;
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

namespace {

void FromStat(const struct stat& s, FileStat* st) {
  st->dev = s.st_dev;
  st->ino = s.st_ino;
  st->size = static_cast<uint64_t>(s.st_size);
  st->mtime_ns = int64_t{s.st_mtim.tv_sec} * 1000000000 + s.st_mtim.tv_nsec;
  st->ctime_ns = int64_t{s.st_ctim.tv_sec} * 1000000000 + s.st_ctim.tv_nsec;
  st->mode = s.st_mode;
  st->uid = s.st_uid;
  st->gid = s.st_gid;
  st->nlink = static_cast<uint32_t>(s.st_nlink);
}

void FromStatx(const struct statx& s, FileStat* st) {
  st->dev = makedev(s.stx_dev_major, s.stx_dev_minor);
  st->ino = s.stx_ino;
  st->size = s.stx_size;
  st->mtime_ns = s.stx_mtime.tv_sec * 1000000000 + s.stx_mtime.tv_nsec;
  st->ctime_ns = s.stx_ctime.tv_sec * 1000000000 + s.stx_ctime.tv_nsec;
  st->mode = s.stx_mode;
  st->uid = s.stx_uid;
  st->gid = s.stx_gid;
  st->nlink = s.stx_nlink;
}

Status Errno(std::string_view what, const std::string& path) {
  int err = errno;
  std::string context(what);
  context += ' ';
  context += path;
  return Status::FromErrno(context, err);
}

class PosixEnv final : public Env {
 public:
  Status OpenDir(const std::string& path, File* dir) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open directory", path);
    *dir = File(UniqueFd(fd), path);
    return Status::OK();
  }

  Status OpenDirAt(const File& parent, const std::string& name, File* dir) override {
    int fd = ::openat(parent.fd(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open directory", parent.Child(name));
    *dir = File(UniqueFd(fd), parent.Child(name));
    return Status::OK();
  }

  Status MkdirAt(const File& parent, const std::string& name, mode_t mode) override {
    if (::mkdirat(parent.fd(), name.c_str(), mode) != 0) {
      return Errno("cannot create directory", parent.Child(name));
    }
    return Status::OK();
  }

  Status ReadDir(const File& dir, char* buf, size_t cap, size_t* len) override {
    long n = ::syscall(SYS_getdents64, dir.fd(), buf, cap);
    if (n < 0) return Errno("cannot list directory", dir.path());
    *len = static_cast<size_t>(n);
    return Status::OK();
  }

  Status SeekDir(const File& dir, int64_t offset) override {
    if (::lseek(dir.fd(), offset, SEEK_SET) < 0) return Errno("cannot seek directory", dir.path());
    return Status::OK();
  }

  Status Symlink(const File& dir, const std::string& name, const std::string& target) override {
    if (::symlinkat(target.c_str(), dir.fd(), name.c_str()) != 0) {
      return Errno("cannot create", dir.Child(name));
    }
    return Status::OK();
  }

  Status ReadLink(const File& dir, const std::string& name, std::string* target) override {
    char buf[PATH_MAX];
    ssize_t n = ::readlinkat(dir.fd(), name.c_str(), buf, sizeof buf);
    if (n < 0) return Errno("cannot read", dir.Child(name));
    target->assign(buf, static_cast<size_t>(n));
    return Status::OK();
  }

  Status StatAt(const File& dir, const std::string& name, FileStat* st) override {
    struct stat s;
    if (::fstatat(dir.fd(), name.c_str(), &s, AT_SYMLINK_NOFOLLOW) != 0) {
      return Errno("cannot stat", dir.Child(name));
    }
    FromStat(s, st);
    return Status::OK();
  }

  Status StatPath(const std::string& path, bool follow, FileStat* st) override {
    struct stat s;
    if ((follow ? ::stat(path.c_str(), &s) : ::lstat(path.c_str(), &s)) != 0) {
      return Errno("cannot stat", path);
    }
    FromStat(s, st);
    return Status::OK();
  }

  // Asks the server, not the client's attribute cache: on NFS, SMB, FUSE
  // and Ceph the attributes of an open file can be seconds old, and this is
  // the stat that decides whether the hashed bytes are the file's. On a
  // local filesystem the flag costs nothing.
  Status Stat(const File& file, FileStat* st) override {
    struct statx sx;
    constexpr unsigned kMask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID | STATX_GID |
                               STATX_MTIME | STATX_CTIME | STATX_INO | STATX_SIZE;
    if (::statx(file.fd(), "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, kMask, &sx) != 0) {
      return Errno("cannot stat", file.path());
    }
    FromStatx(sx, st);
    return Status::OK();
  }

  std::string HostName() override {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "";
    return name;
  }

  Status MountId(const File& file, uint64_t* id) override {
    struct statx sx;
    if (::statx(file.fd(), "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) != 0) {
      return Errno("cannot statx", file.path());
    }
    *id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : 0;
    return Status::OK();
  }

  Status IsNetworkFs(const File& file, bool* network) override {
    struct statfs s;
    if (::fstatfs(file.fd(), &s) != 0) return Errno("cannot statfs", file.path());
    switch (static_cast<unsigned long>(s.f_type)) {
      case NFS_SUPER_MAGIC:
      case SMB_SUPER_MAGIC:
      case 0xFF534D42UL:  // CIFS
      case 0xFE534D42UL:  // SMB2
      case 0x65735546UL:  // FUSE
      case 0x00C36400UL:  // Ceph
      case V9FS_MAGIC:
      case AFS_SUPER_MAGIC:
      case CODA_SUPER_MAGIC:
        *network = true;
        break;
      default:
        *network = false;
    }
    return Status::OK();
  }

  Status HeldForWriting(const File& file, bool* held) override {
    // A read lease is refused (EAGAIN) while any descriptor of this host
    // has the file open for writing. Should a writer open it in the moment
    // the lease is held, its open waits for the release, and the lease
    // break signal (SIGIO) is ignored (main.cc).
    if (::fcntl(file.fd(), F_SETLEASE, F_RDLCK) != 0) {
      if (errno == EAGAIN) {
        *held = true;
        return Status::OK();
      }
      return Errno("cannot take a read lease on", file.path());
    }
    *held = false;
    if (::fcntl(file.fd(), F_SETLEASE, F_UNLCK) != 0) {
      return Errno("cannot release the read lease on", file.path());
    }
    return Status::OK();
  }

  Status OpenAt(const File& dir, const std::string& name, int flags, mode_t mode,
                File* file) override {
    int fd = ::openat(dir.fd(), name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return Errno("cannot open", dir.Child(name));
    *file = File(UniqueFd(fd), dir.Child(name));
    return Status::OK();
  }

  Status Read(const File& file, char* buf, size_t n, size_t* got) override {
    for (;;) {
      ssize_t r = ::read(file.fd(), buf, n);
      if (r >= 0) {
        *got = static_cast<size_t>(r);
        return Status::OK();
      }
      if (errno != EINTR) return Errno("cannot read", file.path());
    }
  }

  Status ReadAt(const File& file, uint64_t offset, char* buf, size_t n, size_t* got) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(file.fd(), buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot read", file.path());
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    *got = done;
    return Status::OK();
  }

  Status Write(const File& file, std::string_view data) override {
    while (!data.empty()) {
      ssize_t w = ::write(file.fd(), data.data(), data.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", file.path());
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return Status::OK();
  }

  Status Truncate(const File& file, uint64_t size) override {
    if (::ftruncate(file.fd(), static_cast<off_t>(size)) != 0) {
      return Errno("cannot truncate", file.path());
    }
    return Status::OK();
  }

  Status Sync(const File& file) override {
    if (::fsync(file.fd()) != 0) return Errno("cannot fsync", file.path());
    return Status::OK();
  }

  Status DataSync(const File& file) override {
    if (::fdatasync(file.fd()) != 0) return Errno("cannot fdatasync", file.path());
    return Status::OK();
  }

  Status SyncFs(const File& file) override {
    if (::syncfs(file.fd()) != 0) return Errno("cannot syncfs the filesystem of", file.path());
    return Status::OK();
  }

  Status SetMode(const File& file, mode_t mode) override {
    if (::fchmod(file.fd(), mode) != 0) return Errno("cannot chmod", file.path());
    return Status::OK();
  }

  Status SetOwner(const File& file, uid_t uid, gid_t gid) override {
    if (::fchown(file.fd(), uid, gid) != 0) return Errno("cannot chown", file.path());
    return Status::OK();
  }

  Status SetMtime(const File& file, int64_t mtime_ns) override {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    // Floor division: tv_nsec must be in [0, 1e9) also before 1970.
    int64_t sec = mtime_ns / 1000000000;
    int64_t nsec = mtime_ns % 1000000000;
    if (nsec < 0) {
      nsec += 1000000000;
      --sec;
    }
    times[1].tv_sec = static_cast<time_t>(sec);
    times[1].tv_nsec = static_cast<long>(nsec);
    if (::futimens(file.fd(), times) != 0) return Errno("cannot set mtime of", file.path());
    return Status::OK();
  }

  Status Rename(const File& from_dir, const std::string& from, const File& to_dir,
                const std::string& to) override {
    if (::renameat2(from_dir.fd(), from.c_str(), to_dir.fd(), to.c_str(), RENAME_NOREPLACE) != 0) {
      int err = errno;
      return Status::FromErrno("cannot rename " + from_dir.Child(from) + " to " + to_dir.Child(to),
                               err);
    }
    return Status::OK();
  }

  Status ReplaceFile(const File& dir, const std::string& from, const std::string& to) override {
    if (::renameat(dir.fd(), from.c_str(), dir.fd(), to.c_str()) != 0) {
      return Errno("cannot rename " + dir.Child(from) + " to", dir.Child(to));
    }
    return Status::OK();
  }

  Status Unlink(const File& dir, const std::string& name) override {
    if (::unlinkat(dir.fd(), name.c_str(), 0) != 0) return Errno("cannot remove", dir.Child(name));
    return Status::OK();
  }

  Status Link(const File& from_dir, const std::string& from, const File& to_dir,
              const std::string& to) override {
    if (::linkat(from_dir.fd(), from.c_str(), to_dir.fd(), to.c_str(), 0) != 0) {
      return Errno("cannot link " + from_dir.Child(from) + " as", to_dir.Child(to));
    }
    return Status::OK();
  }

  Status RemoveDirAt(const File& dir, const std::string& name) override {
    if (::unlinkat(dir.fd(), name.c_str(), AT_REMOVEDIR) != 0) {
      return Errno("cannot remove", dir.Child(name));
    }
    return Status::OK();
  }

  // Polls with LOCK_NB rather than blocking in flock(LOCK_EX): on CephFS
  // through ceph-fuse, a process killed by SIGKILL during a blocking
  // flock() can leave the lock granted to no one, and every later blocking
  // wait for it, on any client, hangs until that client unmounts.
  Status WaitLockFile(const File& file) override {
    auto pause = std::chrono::milliseconds(1);
    for (;;) {
      if (::flock(file.fd(), LOCK_EX | LOCK_NB) == 0) return Status::OK();
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) return Errno("cannot lock", file.path());
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }

  Status UnlockFile(const File& file) override {
    if (::flock(file.fd(), LOCK_UN) != 0) return Errno("cannot unlock", file.path());
    return Status::OK();
  }

  Status LockFile(const File& file) override {
    if (::flock(file.fd(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) return Status::Busy("another run holds the lock on " + file.path());
      return Errno("cannot lock", file.path());
    }
    return Status::OK();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv env;
  return &env;
}

}  // namespace ingest
