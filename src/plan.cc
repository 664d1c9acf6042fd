#include "plan.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <unordered_map>

#include "fs_util.h"
#include "logging.h"
#include "manifest.h"
#include "sidecar.h"
#include "thread_pool.h"
#include "warehouse.h"

namespace ingest {

namespace {

std::string IntentId(int64_t now_ns, uint64_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016llx-%06llx", static_cast<unsigned long long>(now_ns),
                static_cast<unsigned long long>(n));
  return buf;
}

Action DuplicateAction(OnDuplicate on_duplicate) {
  switch (on_duplicate) {
    case OnDuplicate::kQuarantine:
      return Action::kQuarantine;
    case OnDuplicate::kDelete:
      return Action::kDelete;
    default:
      return Action::kKeep;
  }
}

}  // namespace

Planner::Planner(PassContext* ctx, PassStats* stats, const RecentBatches* recent,
                 SharedFailureLog* failures)
    : ctx_(ctx), stats_(stats), recent_(recent), failures_(failures) {}

void Planner::Preview(Prepared* p) const {
  if (p->outcome != Prepared::Outcome::kReady || ctx_->options->dry_run) return;
  CommitPreview& v = p->preview;
  // Read before the lookup: a batch that commits meanwhile counts as after.
  v.generation = recent_->generation();
  std::string value;
  Status s = ctx_->state->Get(keys::Content(p->sha256), &value);
  ContentRecord rec;
  if (s.ok() && DecodeContentRecord(value, &rec)) {
    v.duplicate_of = rec.path;
  } else if (!s.IsNotFound()) {
    return;  // the committer looks again and reports it
  }
  if (v.duplicate_of.empty() && ctx_->claims != nullptr) {
    if (!ctx_->claims->Find(p->sha256, &v.claim).ok()) return;
    v.claim_read = true;
  }
  v.done = true;
  if (!v.duplicate_of.empty()) return;
  v.dest_rel = PartitionDir(UtcTime(ctx_->clock->NowNs()));
  // Once the committer knows the partition's names, a stat here would only
  // take the directory's lock from its renames.
  if (Listed(v.dest_rel)) return;
  FileStat st;
  v.name_free =
      ctx_->env->StatAt(ctx_->warehouse, JoinPath(v.dest_rel, p->candidate.name), &st).IsNotFound();
}

Status Planner::Plan(std::vector<Prepared>* batch, int64_t now_ns, std::vector<Planned>* plan) {
  const UtcTime t(now_ns);
  const std::string partition_dir = PartitionDir(t);
  const std::string duplicates_dir = DuplicatesDir(t);
  taken_.clear();
  plan->reserve(batch->size());
  // sha256 -> index in *plan of this batch's ingest of that content.
  std::unordered_map<std::string, int> batch_content;
  // The decisions, in order, on this thread.
  for (Prepared& p : *batch) {
    if (p.outcome == Prepared::Outcome::kChanged) {
      ++stats_->deferred;
      const std::string staged = p.candidate.dir->file.Child(p.candidate.name);
      LogEvent(spdlog::level::debug, "deferred")
          .Str("path", staged)
          .Str("source", staged)
          .Str("reason", "changed while being read")
          .Log("changed while being read, retrying next pass: {}", staged);
      continue;
    }
    if (p.outcome == Prepared::Outcome::kWriting) {
      ++stats_->deferred;
      const std::string staged = p.candidate.dir->file.Child(p.candidate.name);
      LogEvent(spdlog::level::info, "deferred")
          .Str("path", staged)
          .Str("source", staged)
          .Str("reason", "open for writing")
          .Log("{}: a process still has it open for writing; it waits until it is closed", staged);
      continue;
    }
    if (p.outcome == Prepared::Outcome::kFailed) {
      ++stats_->failed;
      const std::string staged = p.candidate.dir->file.Child(p.candidate.name);
      LogEvent(spdlog::level::err, "failed")
          .Str("path", staged)
          .Str("source", staged)
          .Num("bytes", p.candidate.st.size)
          .Str("error", p.error.ToString())
          .Log("{}", p.error.ToString());
      failures_->Record(*p.candidate.dir, p.candidate.name, &p.candidate.st, p.error, now_ns);
      continue;
    }
    Planned pl;
    pl.file = &p;
    Status s = FindContent(p, &pl.duplicate_of);
    if (!s.ok()) return s;
    bool there = true;
    if (!pl.duplicate_of.empty()) s = OriginalThere(pl.duplicate_of, p.st.size, &there);
    if (!s.ok()) {
      // Neither set aside nor deleted while that cannot be told.
      Fail(&pl, Status::IOError(
                    "cannot ingest " + p.candidate.dir->file.Child(p.candidate.name) +
                        ": cannot tell whether its first ingest is still there: " + s.ToString(),
                    s.err()));
      continue;
    }
    if (!there) {
      // A retention job or an operator removed it: this copy may be the
      // last one, so it is never set aside or deleted.
      const std::string staged = p.candidate.dir->file.Child(p.candidate.name);
      LogEvent(spdlog::level::warn, "reingest")
          .Str("path", staged)
          .Str("source", staged)
          .Str("sha256", p.sha256)
          .Num("bytes", p.st.size)
          .Str("ingested_as", pl.duplicate_of)
          .Log(
              "{}: its content was ingested as {}, which is no longer in the warehouse; "
              "ingesting it again",
              staged, pl.duplicate_of);
      pl.reingest_of = std::move(pl.duplicate_of);
      pl.duplicate_of.clear();
    }
    auto it = batch_content.find(p.sha256);
    if (pl.duplicate_of.empty() && it != batch_content.end()) {
      pl.original = it->second;
      const Intent& first = (*plan)[pl.original].intent;
      pl.duplicate_of = JoinPath(ctx_->warehouse.path(), JoinPath(first.dest_dir, first.dest_name));
    } else if (pl.duplicate_of.empty() && ctx_->claims != nullptr) {
      std::optional<Claim> claim;
      s = FindClaim(p, &claim);
      if (!s.ok()) {
        Fail(&pl, Status::IOError("cannot ingest " + p.candidate.dir->file.Child(p.candidate.name) +
                                      ": " + s.ToString(),
                                  s.err()));
        continue;
      }
      if (claim && !ResolveClaim(*claim, &pl)) continue;
    }
    pl.action =
        pl.duplicate_of.empty() ? Action::kIngest : DuplicateAction(ctx_->options->on_duplicate);
    FillIntent(&pl);
    Intent& in = pl.intent;
    if (pl.action == Action::kQuarantine) {
      bool held = false;
      s = QuarantineHolds(duplicates_dir, p, &held);
      if (!s.ok()) {
        Fail(&pl, Status::IOError("cannot ingest " + p.candidate.dir->file.Child(p.candidate.name) +
                                      ": " + s.message(),
                                  s.err()));
        continue;
      }
      if (held) {
        // cron's `rsync -a src/ staging/` sends everything again each run:
        // one copy in quarantine is enough.
        pl.action = Action::kDelete;
        pl.duplicate_of =
            JoinPath(ctx_->warehouse.path(), JoinPath(duplicates_dir, QuarantineName(p)));
        in.action = IntentAction::kDelete;
      }
    }
    if (pl.moves()) {
      in.dest_dir = pl.action == Action::kIngest ? partition_dir : duplicates_dir;
      s = ChooseName(in.dest_dir, p, &in.dest_name, &pl.dest);
      if (!s.ok()) {
        Fail(&pl, Status::IOError("cannot ingest " + p.candidate.dir->file.Child(p.candidate.name) +
                                      ": " + s.message(),
                                  s.err()));
        continue;
      }
    }
    if (pl.action == Action::kIngest) batch_content[p.sha256] = static_cast<int>(plan->size());
    plan->push_back(std::move(pl));
  }
  Format(plan, now_ns);
  return Status::OK();
}

void Planner::FillIntent(Planned* pl) const {
  const Prepared& p = *pl->file;
  Intent& in = pl->intent;
  in.sha256 = p.sha256;
  in.src_dir = p.candidate.dir->rel;
  in.src_name = p.candidate.name;
  in.src_dev = p.st.dev;
  in.src_ino = p.st.ino;
  in.size = p.st.size;
  in.mtime_ns = p.st.mtime_ns;
  if (!p.tmp_name.empty()) {
    in.tmp_dir = std::string(kTempDirName);
    in.tmp_name = p.tmp_name;
    in.moved_dev = p.tmp_dev;
    in.moved_ino = p.tmp_ino;
  } else {
    in.moved_dev = p.st.dev;
    in.moved_ino = p.st.ino;
  }
  if (p.candidate.has_sidecar) in.sidecar_name = p.candidate.name + std::string(kSidecarSuffix);
  switch (pl->action) {
    case Action::kIngest:
      in.action = IntentAction::kIngest;
      break;
    case Action::kQuarantine:
      in.action = IntentAction::kQuarantine;
      break;
    case Action::kDelete:
    case Action::kKeep:
      in.action = IntentAction::kDelete;
      break;
  }
}

// Most of the CPU a plan takes, and the renames wait for it.
void Planner::Format(std::vector<Planned>* plan, int64_t now_ns) {
  const UtcTime t(now_ns);
  const std::string ingested_at = t.Rfc3339();
  const std::string hour_path = t.HourPath();
  const uint64_t first_id = next_id_;
  next_id_ += plan->size();
  ctx_->pool->ParallelFor(
      plan->size(), static_cast<size_t>(ctx_->options->concurrency), [&](size_t i) {
        Planned& pl = (*plan)[i];
        const Prepared& p = *pl.file;
        Intent& in = pl.intent;
        pl.id = IntentId(now_ns, first_id + i);
        in.snapshot_key =
            keys::Snapshot(p.candidate.dir->st.ino, p.candidate.pos, p.candidate.name);
        if (pl.action != Action::kIngest) return;
        ManifestRecord rec;
        rec.path = JoinPath(ctx_->warehouse.path(), JoinPath(in.dest_dir, in.dest_name));
        rec.source = p.candidate.dir->file.Child(p.candidate.name);
        rec.sha256 = p.sha256;
        rec.device = p.st.dev;
        rec.inode = p.st.ino;
        rec.size = p.st.size;
        rec.mtime_ns = p.st.mtime_ns;
        rec.ingested_at = ingested_at;
        rec.reingest_of = pl.reingest_of;
        in.manifest_path = hour_path;
        in.manifest_line = FormatManifestLine(rec);
      });
}

Status Planner::FindContent(const Prepared& p, std::string* duplicate_of) {
  duplicate_of->clear();
  RecentBatches::Iterator since;
  if (!p.preview.done || !recent_->Since(p.preview.generation, &since)) {
    // Read before the lookup, as Preview does.
    const uint64_t seen = recent_->generation();
    std::string value;
    Status s = ctx_->state->Get(keys::Content(p.sha256), &value);
    if (s.ok()) {
      ContentRecord rec;
      if (!DecodeContentRecord(value, &rec)) {
        return Status::Corruption("state: undecodable content record for " + p.sha256);
      }
      *duplicate_of = rec.path;
      return Status::OK();
    }
    if (!s.IsNotFound()) return s;
    // Batches not yet in the state are at most those handed to the
    // finisher, always within those kept.
    if (!recent_->Since(seen, &since)) {
      return Status::IOError("commit: lost track of recent batches");
    }
  } else if (!p.preview.duplicate_of.empty()) {
    *duplicate_of = p.preview.duplicate_of;
    return Status::OK();
  }
  // The lookup may have missed what the batches since ingested.
  std::string rel;
  if (recent_->FindIngested(since, p.sha256, &rel)) {
    *duplicate_of = JoinPath(ctx_->warehouse.path(), rel);
  }
  return Status::OK();
}

Status Planner::FindClaim(const Prepared& p, std::optional<Claim>* claim) {
  // A claim read by the worker is as good as one read now: a claim taken
  // since is found by step K.
  Status s;
  if (p.preview.claim_read) {
    *claim = p.preview.claim;
  } else {
    s = ctx_->claims->Find(p.sha256, claim);
  }
  // This instance's own claim of a commit recovery left open, which the
  // claim index does not hold.
  if (s.ok() && !*claim) {
    if (auto it = ctx_->unresolved_claims.find(p.sha256); it != ctx_->unresolved_claims.end()) {
      *claim = it->second;
    }
  }
  return s;
}

bool Planner::ResolveClaim(const Claim& claim, Planned* pl) {
  const Prepared& p = *pl->file;
  if (ctx_->claims->OriginalPresent(claim)) {
    pl->duplicate_of = JoinPath(ctx_->warehouse.path(), claim.path);
    return true;
  }
  const std::string staged = p.candidate.dir->file.Child(p.candidate.name);
  const std::string claimed_for = JoinPath(ctx_->warehouse.path(), claim.path);
  // Another instance's claim whose commit finished, its file removed from
  // the warehouse since (a retention job): this copy may be the last one.
  bool recorded = false;
  if (claim.owner != ctx_->claim_owner &&
      ClaimCommitRecorded(ctx_->env, ctx_->manifests, ctx_->warehouse.path(), claim, &recorded)
          .ok() &&
      recorded) {
    pl->stale_claim = claim;
    pl->reingest_of = claimed_for;
    LogEvent(spdlog::level::warn, "reingest")
        .Str("path", staged)
        .Str("source", staged)
        .Str("sha256", p.sha256)
        .Num("bytes", p.st.size)
        .Str("ingested_as", claimed_for)
        .Str("claimed_by", claim.owner)
        .Log(
            "{}: its content was ingested as {} by instance {}, which is no longer in the "
            "warehouse; ingesting it again",
            staged, claimed_for, claim.owner);
    return true;
  }
  ++stats_->deferred;
  LogEvent(spdlog::level::info, "deferred")
      .Str("path", staged)
      .Str("source", staged)
      .Str("sha256", p.sha256)
      .Str("claimed_by", claim.owner)
      .Str("claimed_for", claimed_for)
      .Log(
          "{}: its content is claimed by another commit (instance {}, for {}) and is not in the "
          "warehouse yet; it waits in staging",
          staged, claim.owner, claimed_for);
  return false;
}

Status Planner::ChooseName(const std::string& dest_rel, const Prepared& p, std::string* name,
                           File** dest) {
  Status s = DestDir(dest_rel, dest);
  if (!s.ok()) return s;
  const File* dir = *dest;
  std::unordered_set<std::string>& taken = taken_[dest_rel];
  KnownNames* known = dir == nullptr ? nullptr : Known(dest_rel);
  const std::string& original = p.candidate.name;
  // The name was free when the worker looked; it still is unless this
  // batch or one committed since took it.
  RecentBatches::Iterator since;
  if (p.preview.done && p.preview.name_free && p.preview.dest_rel == dest_rel &&
      recent_->Since(p.preview.generation, &since) &&
      !recent_->MayHaveName(since, dest_rel, original) && taken.insert(original).second) {
    *name = original;
    if (known != nullptr) known->Add(original);
    return Status::OK();
  }
  // In quarantine the full-sha256 name comes second: a content found there
  // is never quarantined again (QuarantineHolds).
  const bool quarantine = dest_rel.starts_with(kDuplicatesDirName);
  std::vector<std::string> fixed = {original};
  if (!quarantine) fixed.push_back(CollisionName(original, p.sha256, 12));
  fixed.push_back(QuarantineName(p));
  // Then numbered names, without end: a name never runs out.
  for (uint64_t i = 0;; ++i) {
    const std::string candidate =
        i < fixed.size() ? fixed[i]
                         : NumberedCollisionName(original, p.sha256, i - fixed.size() + 2);
    if (taken.count(candidate)) continue;
    FileStat st;
    Status exists = dir == nullptr || (known != nullptr && !known->MayHave(candidate))
                        ? Status::NotFound("")
                        : ctx_->env->StatAt(*dir, candidate, &st);
    if (exists.IsNotFound()) {
      taken.insert(candidate);
      *name = candidate;
      if (known != nullptr) known->Add(candidate);
      return Status::OK();
    }
    if (!exists.ok()) return exists;
  }
}

KnownNames* Planner::Known(const std::string& dest_rel) {
  // A listing reads about as many names as this many stats of absent
  // names take time (a getdents64 entry against a lookup that misses the
  // dentry cache and takes the directory's lock): listing a directory only
  // once that many lookups were made in it keeps a small pass into a large
  // partition at its stats, and a large pass at about one listing.
  constexpr uint64_t kNamesPerLookup = 64;
  NameLookups& l = lookups_[dest_rel];
  ++l.count;
  if (l.names != nullptr || l.count < l.list_at) return l.names.get();
  // Twice as many lookups before the next try.
  l.list_at *= 2;
  File dir;
  Status s = OpenDirs(ctx_->env, ctx_->warehouse, dest_rel, &dir);
  auto names = std::make_unique<KnownNames>();
  bool complete = false;
  if (s.ok())
    s = KnownNames::List(ctx_->env, dir, l.count * kNamesPerLookup, names.get(), &complete);
  if (!s.ok()) {
    spdlog::debug("{}: cannot list its names, looking each up: {}", ctx_->warehouse.Child(dest_rel),
                  s.ToString());
    return nullptr;
  }
  if (!complete) return nullptr;
  // This batch's names may not be there yet; earlier batches' moves are
  // done.
  for (const std::string& n : taken_[dest_rel]) names->Add(n);
  l.names = std::move(names);
  std::lock_guard<std::mutex> lock(listed_mu_);
  listed_.insert(dest_rel);
  return l.names.get();
}

bool Planner::Listed(const std::string& dest_rel) const {
  std::lock_guard<std::mutex> lock(listed_mu_);
  return listed_.count(dest_rel) > 0;
}

Status Planner::OriginalThere(const std::string& path, uint64_t size, bool* there) {
  FileStat st;
  Status s = ctx_->env->StatPath(path, /*follow=*/false, &st);
  *there = s.ok() && st.IsRegular() && st.size == size;
  return s.ok() || s.IsNotFound() || s.err() == ENOTDIR ? Status::OK() : s;
}

std::string Planner::QuarantineName(const Prepared& p) {
  return CollisionName(p.candidate.name, p.sha256, 64);
}

Status Planner::QuarantineHolds(const std::string& dest_rel, const Prepared& p, bool* held) {
  *held = false;
  File* dir = nullptr;
  Status s = DestDir(dest_rel, &dir);
  if (!s.ok() || dir == nullptr) return s;
  const std::string name = QuarantineName(p);
  if (taken_[dest_rel].count(name)) return Status::OK();
  FileStat st;
  s = ctx_->env->StatAt(*dir, name, &st);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  // Only a commit puts a content under its full-sha256 name, so the size
  // is check enough.
  *held = st.IsRegular() && st.size == p.st.size;
  return Status::OK();
}

Status Planner::DestDir(const std::string& rel, File** dir) {
  auto it = dest_dirs_.find(rel);
  if (it == dest_dirs_.end()) {
    File f;
    Status s;
    if (ctx_->options->dry_run) {
      s = ctx_->warehouse.isValid() ? OpenDirs(ctx_->env, ctx_->warehouse, rel, &f)
                                    : Status::NotFound(rel);
      if (s.IsNotFound()) {
        *dir = nullptr;
        return Status::OK();
      }
    } else {
      bool created = false;
      s = OpenOrCreateDirs(ctx_->env, ctx_->warehouse, rel, &f, &created);
      dirs_created_ |= created;
    }
    if (!s.ok()) return s;
    it = dest_dirs_.emplace(rel, std::move(f)).first;
  }
  *dir = &it->second;
  return Status::OK();
}

void Planner::Fail(Planned* p, const Status& s) {
  p->failed = true;
  ++stats_->failed;
  const Candidate& c = p->file->candidate;
  const std::string staged = c.dir->file.Child(c.name);
  LogEvent(spdlog::level::err, "failed")
      .Str("path", staged)
      .Str("source", staged)
      .Str("sha256", p->file->sha256)
      .Num("bytes", p->file->st.size)
      .Str("error", s.ToString())
      .Log("{}", s.ToString());
  failures_->Record(*c.dir, c.name, &c.st, s, ctx_->clock->NowNs());
}

bool Planner::TakeDirsCreated() {
  const bool created = dirs_created_;
  dirs_created_ = false;
  return created;
}

}  // namespace ingest
