#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "env.h"
#include "status.h"

namespace ingest {

// The warehouse's directory of content claims.
inline constexpr std::string_view kClaimsDirName = ".atomic-ingest-claims";

// A content claim: the warehouse-wide record that one commit of one
// instance ingests a content. Every instance sharing the warehouse takes
// the claim inside its commit, before the move, so that the same content
// from any staging directory is ingested once.
//
// A claim is the name <warehouse>/.atomic-ingest-claims/<sha[0:2]>/<sha>,
// a hard link to a claim record file in records/<owner>/ that holds the
// encoded claim among those of up to kClaimsPerRecordFile others of the
// same batch. The record file is written and made durable first (by the
// batch's barrier B1, or by its own fdatasync); link() then creates the
// name exclusively (EEXIST, also between clients of a network filesystem),
// so a claim is never seen half-written, even after a power loss, and
// taking one allocates no inode. An object store's conditional PUT
// (If-None-Match: *) of the record under the claim's name would do the
// same. Beside a claim, <sha>.takeover-* markers record takeovers
// (ClaimSpace::TakeOver). Claims of older versions are symlinks whose
// target is the record (format 1); they are read and released alike.
struct Claim {
  std::string sha256;
  std::string owner;   // the instance id of the claiming state
  std::string intent;  // the id of the intent that took it
  uint64_t size = 0;
  std::string path;  // the destination, relative to the warehouse

  bool SameCommit(const Claim& o) const { return owner == o.owner && intent == o.intent; }
};

// The claim owner of the state in `state_dir`: 32 random hex digits in its
// file "instance-id", made on first use (when `create`; else "" if none).
// It outlives rebuild-state, so the instance keeps its claims.
Status LoadClaimOwner(Env* env, const File& state_dir, bool create, std::string* owner);

// Claims per record file: a claim read reads its whole file.
inline constexpr size_t kClaimsPerRecordFile = 64;

// One claim record, "atomic-ingest-claim/2 <sha256> <owner> <intent>
// <size> <path bytes> <path>\n": the path last and counted, since it may
// hold spaces and newlines.
std::string EncodeClaim(const Claim& c);
// The claim of `sha256` in `in`: a record file's text, or the target of a
// format-1 claim symlink. False if it holds none, or anything atomic-ingest
// never writes.
bool DecodeClaim(std::string_view sha256, std::string_view in, Claim* c);

// Whether the manifests under `manifests` hold the record of the commit
// that took `claim` (in the warehouse at `warehouse_path`): the hour file
// named by its intent id's time (the id starts with the commit's time in
// 16 hex digits) has a record of its content at its path. A claim whose
// commit is recorded finished: if its file is gone, someone removed it
// since. Reads one hour file.
Status ClaimCommitRecorded(Env* env, const File& manifests, const std::string& warehouse_path,
                           const Claim& claim, bool* recorded);

// The claims of one warehouse. Thread-safe.
class ClaimSpace {
 public:
  // `warehouse` must outlive this. Nothing is created until a claim is
  // taken.
  ClaimSpace(Env* env, const File* warehouse) : env_(env), warehouse_(warehouse) {}

  // The claim on `sha256`, if any. An unreadable claim is Corruption.
  Status Find(const std::string& sha256, std::optional<Claim>* out);
  // Writes the records of `claims`, all of one owner, to new record files
  // and sets (*files)[i] to the one holding claims[i]. Not synced: they
  // must be made durable (a syncfs of the warehouse) before a Take of them.
  Status WriteRecords(const std::vector<Claim>& claims, std::vector<std::string>* files);
  // Takes the claim `c`, whose record is in the durable record file
  // `record` (WriteRecords). When another commit holds it, `*holder` is
  // that claim and nothing changed; else `*holder` is empty and `c` is
  // held: by this call, or already (a retried create whose first reply was
  // lost).
  Status Take(const Claim& c, const std::string& record, std::optional<Claim>* holder);
  // As above, with a record file of its own, written and synced first.
  Status Take(const Claim& c, std::optional<Claim>* holder);
  // Removes the claim if the commit of `c` holds it; a claim of another
  // commit, or none, is left alone.
  Status Release(const Claim& c);
  // Takes `c` in place of `old`, another instance's claim whose commit
  // finished (the manifests record it) but whose file has left the
  // warehouse since. Several instances may try at once: each first
  // creates, exclusively, the marker <sha>.takeover-<old owner>-<old
  // intent> (a hard link to `c`'s record, never removed), and only its
  // creator removes `old`; the others get `*holder` as for Take. A marker
  // of this same instance (a try cut short by a crash) counts as its own.
  Status TakeOver(const Claim& old, const Claim& c, std::optional<Claim>* holder);
  // Whether the claim's file is in the warehouse with the claimed size:
  // the claimed content is there (its commit may still be finishing).
  bool OriginalPresent(const Claim& c);

 private:
  // The directory of `sha256`'s claim, opened once; created if `create`.
  Status Dir(const std::string& sha256, bool create, const File** dir);
  // The directory <kClaimsDirName>/`rel`, opened once; created if `create`.
  Status OpenSub(const std::string& rel, bool create, const File** dir);
  // A new record file in records/<owner>/ holding `text`, named after
  // `intent` (with a counter when that name is taken).
  Status WriteRecordFile(const std::string& owner, const std::string& intent, std::string_view text,
                         bool sync, std::string* file);
  // Reads the claim of `sha256` at `name` in `dir`.
  Status ReadClaim(const File& dir, const std::string& name, const std::string& sha256,
                   std::optional<Claim>* out);
  // Links `record` to `name` in `dir`.
  Status LinkRecord(const std::string& record, const File& dir, const std::string& name);

  Env* env_;
  const File* warehouse_;
  std::mutex mu_;
  File root_;
  std::map<std::string, File, std::less<>> dirs_;
};

}  // namespace ingest
