#include "prepare.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "fs_util.h"
#include "sidecar.h"

namespace ingest {

namespace {

// Reads of this size keep hashing at its speed while each worker holds
// little memory.
constexpr size_t kBufferSize = 256 << 10;
constexpr size_t kMaxSidecarBytes = 64 * 1024;

bool SameInode(const FileStat& a, const FileStat& b) { return a.dev == b.dev && a.ino == b.ino; }

}  // namespace

std::string NextTempName() {
  static const std::string prefix = std::to_string(::getpid()) + ".";
  static std::atomic<uint64_t> counter{0};
  return prefix + std::to_string(counter.fetch_add(1)) + ".copy";
}

Preparer::Preparer(Env* env, const File* tmp_dir, bool keep_owner, OpenWriters* writers)
    : env_(env), tmp_dir_(tmp_dir), keep_owner_(keep_owner), writers_(writers), buf_(kBufferSize) {}

void Preparer::Prepare(const Candidate& c, Prepared* out) {
  out->candidate = c;
  out->outcome = Prepared::Outcome::kFailed;
  // O_NONBLOCK: a FIFO swapped in after the scan must not block the pass.
  File src;
  // O_NOATIME: reading must not dirty the inode (one journal write per
  // file); it needs ownership or CAP_FOWNER, so fall back without it.
  constexpr int kFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY;
  Status s = env_->OpenAt(c.dir->file, c.name, kFlags | O_NOATIME, 0, &src);
  if (!s.ok() && s.err() == EPERM) s = env_->OpenAt(c.dir->file, c.name, kFlags, 0, &src);
  if (s.IsNotFound() || (!s.ok() && s.err() == ELOOP)) {
    out->outcome = Prepared::Outcome::kChanged;
    return;
  }
  if (!s.ok()) {
    out->error = s;
    return;
  }
  FileStat before;
  s = env_->Stat(src, &before);
  if (!s.ok()) {
    out->error = s;
    return;
  }
  if (!before.IsRegular() || !c.st.SameContentIdentity(before)) {
    out->outcome = Prepared::Outcome::kChanged;
    return;
  }
  // Checked before the read: a writer that stalled (longer than the window,
  // or after writing the .ok) would go on writing into the moved file.
  if (writers_ != nullptr && writers_->Held(src)) {
    out->outcome = Prepared::Outcome::kWriting;
    return;
  }
  s = HashAndCopy(src, out);
  if (!s.ok()) {
    // Name the staged file: the temp copy means nothing to the operator.
    out->error =
        tmp_dir_ == nullptr
            ? s
            : Status::IOError("cannot copy " + src.path() + " into the warehouse: " + s.message(),
                              s.err());
    return;
  }
  s = env_->Stat(src, &out->st);
  if (!s.ok()) {
    out->error = s;
    return;
  }
  // A writer that appended or rewrote the file while it was read changes
  // size, mtime or ctime; what was hashed may not be what is there.
  if (!before.SameContentIdentity(out->st) || !SameInode(before, c.st)) {
    out->outcome = Prepared::Outcome::kChanged;
    DropCopy(*out);
    out->tmp_name.clear();
    return;
  }
  if (c.has_sidecar) {
    s = CheckSidecar(c, out->sha256);
    if (!s.ok()) {
      DropCopy(*out);
      out->tmp_name.clear();
      out->error = s;
      return;
    }
  }
  out->outcome = Prepared::Outcome::kReady;
}

Status Preparer::HashAndCopy(const File& src, Prepared* out) {
  const FileStat& st = out->candidate.st;
  File tmp;
  FileStat tst;  // the copy as created
  if (tmp_dir_ != nullptr) {
    out->tmp_name = NextTempName();
    // Until it is renamed into place the copy is ours, so nobody may write
    // it and only those who could read the source as "other" may read it:
    // the source's owner bits, and its other bits (no write) for group and
    // other. For the common 0644 and 0755 that is already the final mode.
    const mode_t others = st.mode & 0005;
    Status s = env_->OpenAt(*tmp_dir_, out->tmp_name, O_WRONLY | O_CREAT | O_EXCL,
                            (st.mode & 0700) | (others << 3) | others, &tmp);
    if (s.ok()) s = env_->Stat(tmp, &tst);
    if (!s.ok()) {
      if (tmp.isValid()) DropCopy(*out);
      out->tmp_name.clear();
      return s;
    }
  }
  Status s;
  uint64_t total = 0;
  for (;;) {
    size_t got = 0;
    s = env_->Read(src, buf_.data(), buf_.size(), &got);
    if (!s.ok() || got == 0) break;
    std::string_view chunk(buf_.data(), got);
    sha_.Update(chunk);
    total += got;
    if (tmp.isValid()) {
      s = env_->Write(tmp, chunk);
      if (!s.ok()) break;
    }
    // All the bytes the scan saw: the read that would return 0 is skipped.
    // A file that grew meanwhile has a new size or ctime, which the stat
    // after hashing catches.
    if (total == st.size) break;
  }
  out->sha256 = sha_.FinishHex();
  if (s.ok() && tmp.isValid()) {
    // Keep what readers of the warehouse may rely on: mode, owner, mtime,
    // setting only what the creation did not already get right. The copy
    // is made durable by the batch's barrier, not here.
    if (keep_owner_ && (tst.uid != st.uid || tst.gid != st.gid)) {
      s = env_->SetOwner(tmp, st.uid, st.gid);
    }
    // Set-user-ID and set-group-ID bits, never given at creation, come
    // last: a change of owner clears them, and so does a write without
    // CAP_FSETID.
    const mode_t mode = st.mode & 07777;
    if (s.ok() && (tst.mode & 07777) != mode) {
      s = env_->SetMode(tmp, mode);
    }
    if (s.ok()) s = env_->SetMtime(tmp, st.mtime_ns);
    out->tmp_dev = tst.dev;
    out->tmp_ino = tst.ino;
  }
  if (!s.ok()) {
    DropCopy(*out);
    out->tmp_name.clear();
  }
  return s;
}

Status Preparer::CheckSidecar(const Candidate& c, const std::string& sha256) {
  std::string sidecar = c.name + std::string(kSidecarSuffix);
  std::string content;
  const File& dir = c.dir->file;
  Status s = ReadSmallFile(env_, dir, sidecar, kMaxSidecarBytes, &content);
  if (!s.ok()) return s;
  std::string expected;
  s = ParseSidecar(content, c.name, &expected);
  if (!s.ok()) return Status::Corruption("sidecar " + dir.Child(sidecar) + " " + s.message());
  if (!expected.empty() && expected != sha256) {
    return Status::Corruption("checksum mismatch for " + dir.Child(c.name) + ": " + sidecar +
                              " says " + expected + ", content is " + sha256);
  }
  return Status::OK();
}

void Preparer::DropCopy(const Prepared& out) {
  if (out.tmp_name.empty()) return;
  // A copy left behind is harmless: recovery empties the temp directory
  // once no commit is left open.
  (void)env_->Unlink(*tmp_dir_, out.tmp_name);
}

}  // namespace ingest
