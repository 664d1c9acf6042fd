#pragma once

#include <vector>

#include "pass_context.h"
#include "plan.h"

namespace ingest {

// Step M: how a planned file gets from staging into the warehouse. A file
// on the warehouse's filesystem is renamed in from staging; one from
// another filesystem was copied to the temp directory when it was hashed
// (prepare.h) and is renamed in from there. Either rename never replaces a
// name, and recovery tells a done move from one not done by the inode at
// the destination.
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
  // The three parts of one move, each thread-safe and doing nothing for a
  // file that failed.
  void CheckBeforeMove(Planned* p) const;
  void RenameIn(Planned* p) const;
  void CheckAfterMove(Planned* p) const;

  PassContext* ctx_;
};

// Whether the source of intent `in`, in `src_dir`, is still the file that
// was hashed: the same inode, size and mtime.
bool SourceUnchanged(Env* env, const File& src_dir, const Intent& in);

// Whether the file moved in as intent `in`, in `dest`, is still the one
// that was hashed (a same-filesystem move keeps the source's identity).
bool DestUnchanged(Env* env, const File& dest, const Intent& in);

// Puts a same-filesystem file moved in as `in` back into staging, found
// written to after it was hashed.
Status PutBack(Env* env, const File& dest, const File& src_dir, const Intent& in);

}  // namespace ingest
