#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

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
// A claim is the symlink <warehouse>/.atomic-ingest-claims/<sha[0:2]>/<sha>
// whose target is the encoded record. symlinkat() creates the name and its
// content in one atomic, exclusive step (EEXIST, also between clients of a
// network filesystem), so a claim is never seen half-written, even after a
// power loss; an object store's conditional PUT (If-None-Match: *) of the
// same record would do the same.
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

std::string EncodeClaim(const Claim& c);
bool DecodeClaim(std::string_view sha256, std::string_view in, Claim* c);

// The claims of one warehouse. Thread-safe.
class ClaimSpace {
 public:
  // `warehouse` must outlive this. Nothing is created until a claim is
  // taken.
  ClaimSpace(Env* env, const File* warehouse) : env_(env), warehouse_(warehouse) {}

  // The claim on `sha256`, if any. An unreadable claim is Corruption.
  Status Find(const std::string& sha256, std::optional<Claim>* out);
  // Takes the claim `c`. When another commit holds it, `*holder` is that
  // claim and nothing changed; else `*holder` is empty and `c` is held: by
  // this call, or already (a retried create whose first reply was lost).
  Status Take(const Claim& c, std::optional<Claim>* holder);
  // Removes the claim if the commit of `c` holds it; a claim of another
  // commit, or none, is left alone.
  Status Release(const Claim& c);
  // Whether the claim's file is in the warehouse with the claimed size:
  // the claimed content is there (its commit may still be finishing).
  bool OriginalPresent(const Claim& c);

 private:
  // The directory of `sha256`'s claim, opened once; created if `create`.
  Status Dir(const std::string& sha256, bool create, const File** dir);

  Env* env_;
  const File* warehouse_;
  std::mutex mu_;
  File root_;
  std::map<std::string, File, std::less<>> dirs_;
};

}  // namespace ingest
