#pragma once

#include <vector>

#include "pass_context.h"
#include "plan.h"

namespace ingest {

// Step M: how a planned file gets from staging into the warehouse. A file
// on the warehouse's filesystem is moved in from staging; one from another
// filesystem was copied to the temp directory when it was hashed
// (prepare.h) and is moved in from there. A move never replaces a name,
// and recovery tells a done move from one not done by the inode at the
// destination.
//
// A move is renameat2(RENAME_NOREPLACE) where the filesystem takes it.
// CephFS, NFS, CIFS and FUSE filesystems reject the flag (EINVAL); the
// first such refusal of a pass switches the rest of the pass to link(),
// which fails atomically on an existing name (also between clients), then
// unlink() of the old name. Between the two both names hold the file, a
// state recovery finishes (intent_effects.h). A filesystem without hard
// links either is reported once, and its files wait in staging.
class Mover {
 public:
  explicit Mover(PassContext* ctx) : ctx_(ctx) {}

  // Moves every planned file that moves (kIngest, kQuarantine) and has not
  // failed, on up to --concurrency threads: `moved` is set for each that
  // arrived intact. A file that failed gets `failed`, and `move_error`
  // unless it merely changed since it was hashed (it waits for a later
  // pass). A duplicate of this batch's own ingest moves only once that
  // ingest has.
  void MoveAll(std::vector<Planned>* plan);

  // Takes back every move of `plan`, after a barrier or the manifest
  // failed: the files return to staging (a copy is unlinked).
  void UndoMoves(std::vector<Planned>* plan);

 private:
  enum class Method { kRename, kLink, kNone };

  // The three parts of one move, each doing nothing for a file that
  // failed. PlaceIn runs on one thread, in plan order; the checks are
  // thread-safe.
  void CheckBeforeMove(Planned* p) const;
  void PlaceIn(Planned* p);
  void CheckAfterMove(Planned* p) const;
  // The move of one file by link(); sets `*linked` when the link is there.
  Status LinkIn(const File& from_dir, const std::string& from, const Planned& p, bool* linked);

  PassContext* ctx_;
  // How this pass moves files: learnt from the first move, changed only by
  // PlaceIn.
  Method method_ = Method::kRename;
};

// Whether a failed renameat2 means that the filesystem takes no flags.
bool RenameFlagsUnsupported(const Status& s);
// Whether a failed link() means that the filesystem, or the kernel's
// fs.protected_hardlinks for this user, allows no hard link here.
bool LinksRefused(const Status& s);

// Whether the source of intent `in`, in `src_dir`, is still the file that
// was hashed: the same inode, size and mtime.
bool SourceUnchanged(Env* env, const File& src_dir, const Intent& in);

// Whether the file moved in as intent `in`, in `dest`, is still the one
// that was hashed (a same-filesystem move keeps the source's identity).
bool DestUnchanged(Env* env, const File& dest, const Intent& in);

// Puts a same-filesystem file moved in as `in` back into staging, found
// written to after it was hashed: by removing the new name when a move by
// link() left the old one, else by rename, or by link() and unlink() where
// rename takes no flags.
Status PutBack(Env* env, const File& dest, const File& src_dir, const Intent& in);
// A put-back renames (or links) the file into staging again, which sets its
// ctime, and in sidecar mode a file changed after its .ok appeared waits
// for a newer one (EntryDecider): so the .ok's ctime is set again too. Part
// of PutBack; recovery calls it again for a rolled-back intent, in case a
// crash came between the two. No .ok, or a copy from another filesystem
// (never moved), or a .ok not older than the file: nothing to do, and
// *rearmed false.
Status RearmSidecar(Env* env, const File& src_dir, const Intent& in, bool* rearmed);

}  // namespace ingest
