#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "claims.h"
#include "failure_log.h"
#include "known_names.h"
#include "pass_context.h"
#include "prepare.h"
#include "recent_batches.h"
#include "records.h"

namespace ingest {

// What a commit does with a prepared file.
enum class Action {
  kIngest,      // into today's partition, with a manifest record
  kQuarantine,  // a duplicate, into today's duplicates directory
  kDelete,      // a duplicate, unlinked from staging
  kKeep,        // a duplicate, left in staging and remembered
};

// One file of a batch on its way through the commit's steps.
struct Planned {
  Prepared* file = nullptr;
  Action action = Action::kIngest;
  std::string duplicate_of;  // path of the first ingest, for duplicates
  int original = -1;         // index in the plan when that ingest is in this batch
  // An ingest of a content whose first ingest, at this path, is no longer
  // in the warehouse.
  std::string reingest_of;
  std::string id;
  Intent intent;
  File* dest = nullptr;  // the directory it moves into (kIngest, kQuarantine)
  bool moved = false;
  // Moved by link(): its old name (the source, or the temp copy) holds the
  // file too until the move unlinks it.
  bool linked = false;
  bool failed = false;
  // An ingest whose content claim this commit holds (step K).
  bool claimed = false;
  // Another instance's claim whose commit finished and whose file left the
  // warehouse since: this ingest's take replaces it (a takeover).
  std::optional<Claim> stale_claim;
  // Why the move failed; OK with `failed` when the file changed and waits
  // for a later pass. Reported in plan order once every move is done. Set
  // without `failed` when a move by link() could not unlink the source.
  Status move_error;
  // The intent stays open when its batch closes, and recovery finishes the
  // job next pass: committed, but the source or the sidecar could not be
  // removed; or found written to after its rename and not put back.
  bool intent_stays_open = false;

  const File& source_dir() const { return file->candidate.dir->file; }
  bool moves() const { return action == Action::kIngest || action == Action::kQuarantine; }
};

// Decides, for each file of a batch, what its commit does and where it
// goes: whether its content is new (in the state, in the batches the state
// does not hold yet, or earlier in this batch), the free name it takes in
// the warehouse, and its intent and manifest record. The committer's
// thread only, except for Preview.
class Planner {
 public:
  // Name lookups in a warehouse directory before the planner lists it
  // (Known).
  static constexpr uint64_t kListAfterLookups = 1024;

  Planner(PassContext* ctx, PassStats* stats, const RecentBatches* recent,
          SharedFailureLog* failures);

  // Thread-safe; for workers, on a file they prepared, so that the
  // committer's serial path does less: looks the content up in the index
  // and, until the committer has listed today's partition (Known), checks
  // that the file's name is free there. Plan
  // trusts the lookup only while `recent` still knows every content
  // committed since, and a name taken meanwhile makes the file wait for the
  // next pass (the rename never replaces).
  void Preview(Prepared* p) const;

  // Plans `batch` (sorted as it is to be committed) at `now_ns`. Files
  // that failed or changed while prepared are counted and left out; a file
  // without a free name fails alone.
  Status Plan(std::vector<Prepared>* batch, int64_t now_ns, std::vector<Planned>* plan);

  // Counts, logs and records the failure of one planned file.
  void Fail(Planned* p, const Status& s);

  // Whether a warehouse directory was created since the last call.
  bool TakeDirsCreated();

 private:
  // The first ingest of `p`'s content by this instance before this batch
  // ("" if none).
  Status FindContent(const Prepared& p, std::string* duplicate_of);
  // For a content this instance never ingested: its claim in the
  // warehouse, if another instance (or an undone commit) took one.
  Status FindClaim(const Prepared& p, std::optional<Claim>* claim);
  // Decides on a content another commit has claimed: a duplicate of the
  // claimed file when it is in the warehouse, else (false) the file waits.
  bool ResolveClaim(const Claim& claim, Planned* pl);

  // Picks a free name in `dest_rel` for `p`, honouring names already taken
  // by this batch, and opens that directory into `*dest`.
  Status ChooseName(const std::string& dest_rel, const Prepared& p, std::string* name, File** dest);
  // The names of `dest_rel` known from one listing and what this pass put
  // there since, or null while a stat per name costs less than a listing.
  // Counts a name lookup in `dest_rel` and lists it when due.
  KnownNames* Known(const std::string& dest_rel);
  // Whether Known lists `dest_rel`, so that a worker's preview need not
  // stat its names. Thread-safe.
  bool Listed(const std::string& dest_rel) const;
  // Whether the warehouse file at `path` (a content's first ingest) is
  // still there: a regular file of the content's `size`. A copy is set
  // aside or deleted as its duplicate only then.
  // An error other than ENOENT or ENOTDIR is returned: nothing is decided.
  Status OriginalThere(const std::string& path, uint64_t size, bool* there);
  // The name a quarantined copy of `p`'s content takes when its own name is
  // taken.
  static std::string QuarantineName(const Prepared& p);
  // Whether quarantine (`dest_rel`) already holds `p`'s content under
  // QuarantineName.
  Status QuarantineHolds(const std::string& dest_rel, const Prepared& p, bool* held);
  // The warehouse directory `rel`, created unless in a dry run (where a
  // missing one is null).
  Status DestDir(const std::string& rel, File** dir);
  // The intent's own fields, from the file and the decision.
  void FillIntent(Planned* pl) const;
  // What follows from the decisions, formatted on several threads.
  void Format(std::vector<Planned>* plan, int64_t now_ns);

  PassContext* ctx_;
  PassStats* stats_;
  const RecentBatches* recent_;
  SharedFailureLog* failures_;
  uint64_t next_id_ = 0;
  std::map<std::string, File> dest_dirs_;
  // Names this batch has assigned, per destination directory.
  std::map<std::string, std::unordered_set<std::string>> taken_;
  // Per destination directory, for Known.
  struct NameLookups {
    uint64_t count = 0;
    uint64_t list_at = kListAfterLookups;
    std::unique_ptr<KnownNames> names;
  };
  std::map<std::string, NameLookups> lookups_;
  mutable std::mutex listed_mu_;
  std::unordered_set<std::string> listed_;
  bool dirs_created_ = false;
};

}  // namespace ingest
