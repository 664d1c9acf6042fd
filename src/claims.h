#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "env.h"
#include "state_store.h"
#include "status.h"

namespace ingest {

// The warehouse's directory of content claims.
inline constexpr std::string_view kClaimsDirName = ".atomic-ingest-claims";
// The claim log in it.
inline constexpr std::string_view kClaimLogName = "log";

// A content claim: the warehouse-wide record that one commit of one
// instance ingests a content. Every instance sharing the warehouse takes
// the claim inside its commit, before the move, so that the same content
// from any staging directory is ingested once.
//
// Claims live in one append-only log, <warehouse>/.atomic-ingest-claims/log,
// appended to under flock (which CephFS, GlusterFS and NFSv4 honour across
// clients). A taker locks the log, reads what others appended since it
// last looked, decides each claim against all of it, appends the claims it
// takes and lets go: the log's order is the order of the takes, so the
// first take of a content wins, and a batch of claims costs one lock, one
// read and one write, whatever its size. Each instance folds the log into
// an index in its state (keys "k/" and "m/claim_log" of records.h), so a
// lookup reads no file. An object store's conditional PUT of the log's
// next segment (If-None-Match: *) could take the lock's role.
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

// The records of the log, one line each, with no byte of the path raw (it
// is in hex), so that a reader resynchronizes at the next newline after a
// torn record:
//   atomic-ingest-claim/3 log <log id> <check>
//   atomic-ingest-claim/3 take <sha256> <owner> <intent> <size> <hex path> <check>
//   atomic-ingest-claim/3 take <sha256> <owner> <intent> <size> <hex path> <old owner> <old intent>
//   <check> atomic-ingest-claim/3 release <sha256> <owner> <intent> <check>
// <check> is the first 16 hex digits of the SHA-256 of the line before " <check>".
// The first record names the log; a take with an old commit replaces that
// commit's claim (a takeover).
struct ClaimRecord {
  enum class Op { kLog, kTake, kRelease };
  Op op = Op::kTake;
  std::string log_id;             // kLog
  Claim claim;                    // kTake, kRelease (sha256, owner, intent only)
  std::optional<Claim> replaces;  // kTake: owner and intent of the claim it replaces
};
std::string EncodeClaimRecord(const ClaimRecord& r);
// One record, without its newline; false if it is torn or not a record.
bool DecodeClaimRecord(std::string_view line, ClaimRecord* r);

// The intent of a release that releases its owner's claim whatever its
// intent (forget, which knows a content but not the commit that took it).
inline constexpr std::string_view kAnyIntent = "*";
// Whether the release `release` releases `held`.
bool ReleaseMatches(const Claim& release, const std::optional<Claim>& held);

// The intent of a claim taken for a content ingested before its instance
// claimed contents in the log (claim_backfill.h).
inline constexpr std::string_view kBackfillIntent = "before-claims";

// Whether the take `r` takes its claim when `held` is the claim on its
// content: when none is held, when the holder is of the same instance (an
// instance never has two commits of one content under way; the claims of
// those recovery left open are in PassContext::unresolved_claims) unless
// `r` is a backfill, which never replaces a claim, or when `r` replaces the
// holder. Every reader of the log applies the same rule.
bool TakeWins(const ClaimRecord& r, const std::optional<Claim>& held);

// Every claim the log at `warehouse` holds, by sha256, read from its start.
Status ReadAllClaims(Env* env, const File& warehouse, std::map<std::string, Claim>* out);

// The claim of `sha256` in `in`, in a format before the claim log, whose
// claims were names <sha256[0:2]>/<sha256> in the claims directory: a
// symlink whose target is "atomic-ingest-claim/1 <owner> <intent> <size>
// <path>", or a hard link to a record file of lines
// "atomic-ingest-claim/2 <sha256> <owner> <intent> <size> <path bytes>
// <path>". False if it holds none. Read once, to import them (claim_backfill.h).
bool DecodeNamedClaim(std::string_view sha256, std::string_view in, Claim* c);

// Whether the manifests under `manifests` hold the record of the commit
// that took `claim` (in the warehouse at `warehouse_path`): the hour file
// named by its intent id's time (the id starts with the commit's time in
// 16 hex digits) has a record of its content at its path. A claim whose
// commit is recorded finished: if its file is gone, someone removed it
// since. Reads one hour file; a backfill claim (kBackfillIntent) counts
// as recorded.
Status ClaimCommitRecorded(Env* env, const File& manifests, const std::string& warehouse_path,
                           const Claim& claim, bool* recorded);

// A request to take a claim, in place of `replaces` if set: another
// instance's claim whose commit finished (the manifests record it) but
// whose file has left the warehouse since.
struct ClaimRequest {
  Claim claim;
  std::optional<Claim> replaces;
};

// The claims of one warehouse, folded into `index` (this instance's
// state: keys "k/<sha256>" and the log's id and folded length in
// "m/claim_log"). The index holds the claims of other instances only:
// this instance's own (those of `owner`) it knows from its content index
// and its intents, and a take of its own always wins over its own older
// claim, so a single instance's index stays empty. With an empty `owner`
// every claim is indexed. Thread-safe.
class ClaimSpace {
 public:
  // `warehouse` and `index` must outlive this. Nothing is created until a
  // claim is taken. A read-only space (explain) folds what it reads in
  // memory and never writes the index or the log.
  ClaimSpace(Env* env, const File* warehouse, StateStore* index, std::string owner,
             bool writable = true);

  // Folds what other instances appended to the log since the index last
  // did. Find sees what the last Refresh, Take or Release read.
  Status Refresh();
  // Another instance's claim on `sha256` (any claim, without an owner),
  // if any, as of the last fold.
  Status Find(const std::string& sha256, std::optional<Claim>* out);
  // Every claim of another instance (of any, without an owner) as of the
  // last fold, by sha256.
  Status AllHeld(std::map<std::string, Claim>* out);
  // Takes the claims of `requests`, in order, under the log's lock: sets
  // (*holders)[i] to the claim of another commit that holds the content
  // (nothing changed for it), or empty when requests[i] holds it now (or
  // held it already). With `sync` the appended records are durable on
  // return; else the caller's next syncfs of the warehouse makes them so.
  Status Take(const std::vector<ClaimRequest>& requests, std::vector<std::optional<Claim>>* holders,
              bool sync);
  // Releases each claim that its commit holds (kAnyIntent: its owner);
  // others are left alone.
  Status Release(const std::vector<Claim>& claims, bool sync);
  // Whether the claim's file is in the warehouse with the claimed size:
  // the claimed content is there (its commit may still be finishing).
  bool OriginalPresent(const Claim& c);

 private:
  struct Fold;
  // Opens the log (creating it if `create`; none is no claim), locks it,
  // folds what it holds past the index and calls `append`, which adds the
  // records to append to `out` and their effect to the fold; appends them
  // (after the log's first record, if it is new) and writes the fold to the
  // index.
  Status Locked(bool create, const std::function<Status(Fold*, std::string* out)>& append,
                bool sync);
  Status OpenLog(bool create, bool* none);
  Status NewLogId(std::string* id);
  // The log's id and folded length, from the index, once.
  Status LoadFolded();
  Status FoldTail(Fold* fold);
  // Applies one record of the log to the fold, where `held` is the claim
  // on its content (Held).
  void Apply(Fold* fold, const ClaimRecord& r, const std::optional<Claim>& held);
  // The claim on `sha256` with the fold's changes.
  Status Held(Fold* fold, const std::string& sha256, std::optional<Claim>* out);
  // The claim on `sha256` in the overlay and the index.
  Status Lookup(const std::string& sha256, std::optional<Claim>* out);
  Status Persist(Fold* fold);

  Env* env_;
  const File* warehouse_;
  StateStore* index_;
  const std::string owner_;
  const bool writable_;
  std::mutex log_mu_;  // one fold of the log at a time
  File dir_;           // <warehouse>/.atomic-ingest-claims
  File log_;
  bool log_writable_ = false;  // log_ is open for appending
  bool log_created_ = false;
  std::mutex mu_;  // overlay_
  // Folded but not yet in the index (a read-only space keeps all it folds
  // here): sha256 -> claim, or nullopt for released.
  std::unordered_map<std::string, std::optional<Claim>> overlay_;
  bool ignore_index_ = false;  // a read-only space found the index of another log
  // Whether the index holds a claim (kUnknown until looked at).
  enum class IndexHolds { kUnknown, kNone, kSome };
  IndexHolds index_holds_ = IndexHolds::kUnknown;
  std::string log_id_;           // as folded
  uint64_t folded_ = 0;          // bytes of the log folded
  std::string last_line_ = "-";  // the end of the line that ends there
  bool loaded_ = false;          // log_id_ and folded_ read from the index
};

}  // namespace ingest
