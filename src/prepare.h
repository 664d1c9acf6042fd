#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "claims.h"
#include "env.h"
#include "open_writers.h"
#include "sha256.h"

namespace ingest {

// A directory of staging being scanned: the input root, or with
// --recursive one of its subdirectories.
struct StagingDir {
  File file;
  std::string rel;  // path below the input root; "" for the root itself
  FileStat st;      // its identity, for snapshot and cursor keys
};

// A staged file that the scanner judged complete.
struct Candidate {
  // Shared: the directory stays open while any of its files is in flight.
  std::shared_ptr<const StagingDir> dir;
  std::string name;
  FileStat st;                // from the scan
  bool has_sidecar = false;   // sidecar mode: "<name>.ok" exists
  int64_t pos = 0;            // listing offset, for its snapshot record
  bool has_snapshot = false;  // the state held a snapshot record for it
};

// What a worker looked up for the committer ahead of its batch
// (Committer::Preview): hints, which the committer checks against what
// committed since.
struct CommitPreview {
  bool done = false;
  // Batches the committer had committed before the lookup.
  uint64_t generation = 0;
  // Warehouse path of the first ingest of this content, if it was known.
  std::string duplicate_of;
  // When the content was not in the index: its claim in the warehouse, if
  // one was there (read only then).
  bool claim_read = false;
  std::optional<Claim> claim;
  // The partition looked in, and whether the file's name was free there.
  std::string dest_rel;
  bool name_free = false;
};

// The outcome of hashing (and, across filesystems, copying) one candidate.
struct Prepared {
  enum class Outcome {
    kReady,    // hashed; ready to commit
    kChanged,  // modified, replaced or removed since the scan: retry later
    kWriting,  // a process holds it open for writing: retry later
    kFailed,   // error (unreadable, checksum mismatch, ...): see `error`
  };
  Candidate candidate;
  Outcome outcome = Outcome::kFailed;
  Status error;
  std::string sha256;
  FileStat st;  // fstat of the open descriptor after hashing
  // Across filesystems: the fsync-pending copy in the warehouse temp dir.
  std::string tmp_name;
  uint64_t tmp_dev = 0;
  uint64_t tmp_ino = 0;
  CommitPreview preview;
};

// Hashes candidates, and copies them into the warehouse's temp directory
// when the warehouse is on another filesystem. One Preparer per worker
// thread; the Files it borrows must outlive it.
class Preparer {
 public:
  // `tmp_dir` is null when the warehouse shares the staging filesystem or
  // when nothing may be written (dry run).
  // `writers`, when not null, vetoes files still open for writing.
  Preparer(Env* env, const File* tmp_dir, bool keep_owner, OpenWriters* writers);

  void Prepare(const Candidate& candidate, Prepared* out);

 private:
  Status HashAndCopy(const File& src, Prepared* out);
  Status CheckSidecar(const Candidate& c, const std::string& sha256);
  // Removes the temp copy `out` made, which belongs to no commit.
  void DropCopy(const Prepared& out);

  Env* env_;
  const File* tmp_dir_;
  bool keep_owner_;
  OpenWriters* writers_;
  Sha256 sha_;
  std::vector<char> buf_;
};

// Unique names for temp copies within this process.
std::string NextTempName();

}  // namespace ingest
