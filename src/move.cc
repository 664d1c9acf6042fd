#include "move.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "fs_util.h"
#include "thread_pool.h"

namespace ingest {

bool RenameFlagsUnsupported(const Status& s) {
  return s.err() == EINVAL || s.err() == ENOSYS || s.err() == EOPNOTSUPP;
}

bool LinksRefused(const Status& s) {
  return s.err() == EPERM || s.err() == ENOSYS || s.err() == EOPNOTSUPP;
}

bool SourceUnchanged(Env* env, const File& src_dir, const Intent& in) {
  return IsUnchanged(env, src_dir, in.src_name, in.src_ino, in.size, in.mtime_ns);
}

bool DestUnchanged(Env* env, const File& dest, const Intent& in) {
  return IsUnchanged(env, dest, in.dest_name, in.src_ino, in.size, in.mtime_ns);
}

Status PutBack(Env* env, const File& dest, const File& src_dir, const Intent& in) {
  Status s;
  if (IsSameInode(env, src_dir, in.src_name, in.src_ino)) {
    s = env->Unlink(dest, in.dest_name);
  } else {
    s = env->Rename(dest, in.dest_name, src_dir, in.src_name);
    if (!s.ok() && RenameFlagsUnsupported(s)) {
      s = env->Link(dest, in.dest_name, src_dir, in.src_name);
      // On NFS a link that was made can report failure after a
      // retransmission.
      if (s.ok() || IsSameInode(env, src_dir, in.src_name, in.src_ino)) {
        s = env->Unlink(dest, in.dest_name);
      }
    }
  }
  bool rearmed = false;
  return s.ok() ? RearmSidecar(env, src_dir, in, &rearmed) : s;
}

Status RearmSidecar(Env* env, const File& src_dir, const Intent& in, bool* rearmed) {
  *rearmed = false;
  if (in.sidecar_name.empty() || in.cross_fs()) return Status::OK();
  File ok;
  Status s = env->OpenAt(src_dir, in.sidecar_name, O_RDONLY | O_NONBLOCK, 0, &ok);
  if (s.IsNotFound()) return Status::OK();
  FileStat ok_st, file_st;
  if (s.ok()) s = env->Stat(ok, &ok_st);
  if (s.ok()) s = env->StatAt(src_dir, in.src_name, &file_st);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok() || file_st.ctime_ns <= ok_st.ctime_ns) return s;
  // A chmod to its own mode sets its ctime, and changes nothing else.
  s = env->SetMode(ok, ok_st.mode & 07777);
  *rearmed = s.ok();
  return s;
}

void Mover::CheckBeforeMove(Planned* p) const {
  const Intent& in = p->intent;
  // A copy from another filesystem is ours; a staged file may have been
  // replaced or written to since it was hashed, and then gets another turn.
  if (!in.cross_fs() && !SourceUnchanged(ctx_->env, p->source_dir(), in)) p->failed = true;
}

void Mover::PlaceIn(Planned* p) {
  if (p->failed) return;
  const Intent& in = p->intent;
  const File& from_dir = in.cross_fs() ? ctx_->tmp_dir : p->source_dir();
  const std::string& from = in.cross_fs() ? in.tmp_name : in.src_name;
  Status s;
  if (method_ == Method::kRename) {
    s = ctx_->env->Rename(from_dir, from, *p->dest, in.dest_name);
    if (!s.ok() && RenameFlagsUnsupported(s)) {
      method_ = Method::kLink;
      spdlog::info("{}: rename takes no flags here ({}); moving files by link() and unlink()",
                   ctx_->warehouse.path(), std::strerror(s.err()));
    }
  }
  if (method_ == Method::kLink) s = LinkIn(from_dir, from, *p, &p->linked);
  if (method_ == Method::kNone && s.ok()) {
    // Said once, for the file that found it out; the rest wait in staging.
    p->failed = true;
    return;
  }
  if (!s.ok()) {
    p->failed = true;
    p->move_error = s;
  }
}

Status Mover::LinkIn(const File& from_dir, const std::string& from, const Planned& p,
                     bool* linked) {
  Env* env = ctx_->env;
  const Intent& in = p.intent;
  Status s = env->Link(from_dir, from, *p.dest, in.dest_name);
  // On NFS a link that was made can report failure after a retransmission:
  // the inode at the destination tells.
  if (!s.ok() && IsSameInode(env, *p.dest, in.dest_name, in.moved_ino)) {
    s = Status::OK();
  }
  if (s.ok()) {
    *linked = true;
    return s;
  }
  if (!LinksRefused(s)) return s;
  method_ = Method::kNone;
  return Status::IOError(
      "cannot move files into " + ctx_->warehouse.path() + ": its filesystem takes no flags on " +
          "rename, and hard links are refused there (" + std::strerror(s.err()) +
          "). Put --warehouse on a filesystem that supports either (a local one, NFS, CephFS, "
          "SMB with unix extensions); where the filesystem has hard links, the kernel's "
          "fs.protected_hardlinks refuses them for files this user does not own: run as their "
          "owner or with CAP_FOWNER. Files wait in staging.",
      s.err());
}

void Mover::CheckAfterMove(Planned* p) const {
  if (p->failed) return;
  Env* env = ctx_->env;
  const Intent& in = p->intent;
  const File& dest = *p->dest;
  const bool intact = in.cross_fs() ? IsSameInode(env, dest, in.dest_name, in.moved_ino)
                                    : DestUnchanged(env, dest, in);
  if (!intact) {
    // Swapped or appended to between the check and the rename: put back
    // what was moved and leave it for a later pass.
    const File& src = p->source_dir();
    // Should the rename back fail, the file stays in the warehouse under
    // its intent, which then stays open: recovery finds it written to, and
    // puts it back next pass.
    if (!in.cross_fs() && !PutBack(env, dest, src, in).ok()) p->intent_stays_open = true;
    p->failed = true;
    // EAGAIN: the failure log (failure_log.h) reads it as one that passes.
    p->move_error = Status::IOError(
        src.Child(in.src_name) + " was replaced or written to while being moved; retried later",
        EAGAIN);
    return;
  }
  if (p->linked) {
    // The second half of a move by link().
    const File& from_dir = in.cross_fs() ? ctx_->tmp_dir : p->source_dir();
    Status s = env->Unlink(from_dir, in.cross_fs() ? in.tmp_name : in.src_name);
    if (!s.ok()) {
      // Reported; the move itself is done. A temp copy's name goes with
      // the temp directory; a source's keeps the intent open, and recovery
      // removes it.
      p->intent_stays_open = !in.cross_fs();
      p->move_error = s;
    }
  }
  p->moved = true;
}

void Mover::MoveAll(std::vector<Planned>* plan) {
  // A duplicate of this batch's own ingest is handled only once that
  // ingest has moved, so a failed original is never lost with its twin:
  // originals go first, then the duplicates of this batch's ingests.
  std::vector<Planned*> originals, twins;
  for (Planned& p : *plan) {
    if (p.failed || !p.moves()) continue;
    (p.original >= 0 ? twins : originals).push_back(&p);
  }
  // The checks run on several threads (as does putting back a file found
  // changed after its rename, which is rare). The renames into the
  // warehouse run on this one, in plan order: they take the filesystem's
  // rename lock, and a second thread would only spin on it.
  ThreadPool* pool = ctx_->pool;
  const auto width = static_cast<size_t>(ctx_->options->concurrency);
  auto move = [&](const std::vector<Planned*>& files) {
    pool->ParallelFor(files.size(), width, [&](size_t i) { CheckBeforeMove(files[i]); });
    for (Planned* p : files) PlaceIn(p);
    pool->ParallelFor(files.size(), width, [&](size_t i) { CheckAfterMove(files[i]); });
  };
  move(originals);
  for (Planned* p : twins) {
    if (!(*plan)[p->original].moved) p->failed = true;
  }
  move(twins);
}

void Mover::UndoMoves(std::vector<Planned>* plan) {
  Env* env = ctx_->env;
  for (Planned& p : *plan) {
    if (!p.moved) continue;
    const Intent& in = p.intent;
    Status s = in.cross_fs() ? env->Unlink(*p.dest, in.dest_name)
                             : PutBack(env, *p.dest, p.source_dir(), in);
    if (s.ok()) p.moved = false;
  }
}

}  // namespace ingest
