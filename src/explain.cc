#include "explain.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "claims.h"
#include "dir_scanner.h"
#include "entry_decider.h"
#include "failure_log.h"
#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "name_escape.h"
#include "prepare.h"
#include "records.h"
#include "scan.h"
#include "sidecar.h"
#include "snapshot_table.h"

namespace ingest {

namespace {

std::string Seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / kNanosPerSecond);
  return buf;
}

std::string Time(int64_t ns) { return UtcTime(ns).Rfc3339(); }

const char* FileType(uint32_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link (never followed)";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

class Explainer {
 public:
  Explainer(const Options& o, Env* env, Clock* clock, StateStore* state, std::string* out)
      : o_(o), env_(env), clock_(clock), state_(state), out_(out) {}

  Status Run(bool* known) {
    *known = true;
    const std::string& path = o_.path;
    if (path == o_.input) {
      Say("the --input directory itself; the files in it are the candidates");
      return Status::OK();
    }
    if (!IsInside(path, o_.input)) return Outside(known);

    Status s = env_->OpenDir(o_.input, &input_);
    if (s.ok()) s = env_->Stat(input_, &input_st_);
    if (!s.ok()) return s;
    decider_ = std::make_unique<EntryDecider>(env_, o_, clock_, input_, input_st_, nullptr);
    s = decider_->Init();
    if (!s.ok()) return s;

    // Down the directories between --input and the file, as the scan goes.
    std::vector<std::string> parts;
    const std::string rel = path.substr(o_.input == "/" ? 1 : o_.input.size() + 1);
    for (size_t start = 0, slash; start <= rel.size(); start = slash + 1) {
      slash = rel.find('/', start);
      if (slash == std::string::npos) slash = rel.size();
      parts.push_back(rel.substr(start, slash - start));
    }
    StagingWalk walk(env_, input_, decider_.get());
    std::shared_ptr<StagingDir> dir;
    DirPlace place;
    s = walk.Open("", &dir, &place);
    if (!s.ok()) return s;
    if (place == DirPlace::kGone) return Status::NotFound(o_.input);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      const std::string sub = JoinPath(dir->rel, parts[i]);
      DirEntry e;
      bool listed = false;
      s = FindEntry(dir->file, parts[i], &e, &listed);
      if (!s.ok()) return s;
      if (!listed) return Gone(nullptr, known);
      if (!o_.recursive) {
        Say("inside " + Printable(JoinPath(o_.input, sub)) +
            ", a subdirectory of --input; subdirectories are listed only with --recursive");
        return Status::OK();
      }
      EntryDecision d;
      s = Decide(*dir, e, &d);
      if (!s.ok()) return s;
      if (d.verdict == EntryVerdict::kGone) return Gone(nullptr, known);
      if (d.verdict == EntryVerdict::kFailed) return d.error;
      if (d.verdict != EntryVerdict::kDescend) {
        if (d.examined && !d.st.IsDirectory()) return Gone(nullptr, known);  // not a directory
        Say("inside " + Printable(JoinPath(o_.input, sub)) +
            ", which the scan never enters: " + d.reason);
        return Status::OK();
      }
      std::shared_ptr<StagingDir> next;
      s = walk.Open(sub, &next, &place);
      if (!s.ok()) return s;
      if (place == DirPlace::kGone) return Gone(nullptr, known);
      if (place == DirPlace::kOtherMount) {
        Say("inside " + Printable(next->file.path()) +
            ", on another filesystem or mount, which the scan never enters");
        return Status::OK();
      }
      dir = std::move(next);
    }
    return Entry(dir, parts.back(), known);
  }

 private:
  void Say(const std::string& what) { *out_ += Printable(o_.path) + ": " + what + "\n"; }
  void Detail(const std::string& key, const std::string& value) {
    *out_ += "  " + key + ": " + value + "\n";
  }

  // Lists `dir` until `name` comes up: the decision needs the entry's type
  // and listing offset. `dir` must be freshly opened: each directory on the
  // way is listed once.
  Status FindEntry(const File& dir, const std::string& name, DirEntry* out, bool* listed) {
    *listed = false;
    DirScanner scanner(env_, &dir);
    for (;;) {
      DirEntry e;
      bool done = false;
      Status s = scanner.Next(&e, &done);
      if (!s.ok() || done) return s;
      if (e.name == name) {
        *out = e;
        entry_name_ = name;
        out->name = entry_name_;
        *listed = true;
        return Status::OK();
      }
    }
  }

  Status Decide(const StagingDir& dir, const DirEntry& e, EntryDecision* d) {
    SnapshotTable table(state_, dir.st.ino, /*writable=*/false);
    table.Begin(e.pos);
    return decider_->Decide(dir.file, dir.rel, e, &table, d);
  }

  Status Entry(std::shared_ptr<StagingDir> dir, const std::string& name, bool* known) {
    DirEntry e;
    bool listed = false;
    Status s = FindEntry(dir->file, name, &e, &listed);
    if (!s.ok()) return s;
    if (!listed) return Gone(dir.get(), known);
    EntryDecision d;
    s = Decide(*dir, e, &d);
    if (!s.ok()) return s;
    std::optional<FailureRecord> failure;
    s = FailureLog::Find(state_, dir->st.ino, name, &failure);
    if (!s.ok()) return s;
    if (failure && d.examined && !FailureLog::Describes(*failure, d.st)) failure.reset();
    failure_ = failure ? &*failure : nullptr;
    switch (d.verdict) {
      case EntryVerdict::kGone:
        return Gone(dir.get(), known);
      case EntryVerdict::kOtherShard:
        OtherShard(*dir, name, d);
        break;
      case EntryVerdict::kSkip:
        s = Skipped(*dir, name, d);
        break;
      case EntryVerdict::kDescend:
        Say("a directory; the scan lists its files (--recursive)");
        break;
      case EntryVerdict::kFailed:
        Say("cannot be examined: " + Printable(d.error.ToString()));
        break;
      case EntryVerdict::kUnresolved:
        Say(d.reason);
        break;
      case EntryVerdict::kWaitSidecar:
        Say("waiting for its sidecar " + Printable(name + std::string(kSidecarSuffix)) +
            " (--mode sidecar)");
        break;
      case EntryVerdict::kWaitStable:
        Say("not yet stable: " + Seconds(d.stability.wait_ns) + " to go");
        Stability(d);
        break;
      case EntryVerdict::kReady:
        s = Ready(dir, name, e, d);
        break;
    }
    if (!s.ok()) return s;
    if (failure) {
      Detail("last failure", Printable(failure->error));
      Detail("failed at", Time(failure->at_ns) + " (" + std::to_string(failure->attempts) +
                              (failure->attempts == 1 ? " attempt)" : " attempts in a row)"));
    }
    return Status::OK();
  }

  void OtherShard(const StagingDir& dir, const std::string& name, const EntryDecision& d) {
    const std::string_view owner = ShardOwnerName(name);
    const std::string with =
        owner.size() == name.size() ? "" : " (with " + Printable(dir.file.Child(owner)) + ")";
    Say("belongs to shard " + d.owner.ToString() + with + ", not this instance's " +
        o_.shard.ToString() + "; the instance run with --shard " + d.owner.ToString() +
        " takes it");
    Detail("shard", "first 8 bytes of sha256(\"" + Printable(JoinPath(dir.rel, owner)) +
                        "\") mod " + std::to_string(o_.shard.count) + " = " +
                        std::to_string(d.owner.index));
  }

  Status Skipped(const StagingDir& dir, const std::string& name, const EntryDecision& d) {
    switch (d.filter) {
      case NameFilter::kHidden:
        Say("never ingested: a hidden name (it starts with '.')");
        return Status::OK();
      case NameFilter::kTempSuffix:
        Say("never ingested: a temporary name (.tmp, .part or .swp); it is taken once renamed");
        return Status::OK();
      case NameFilter::kSidecar:
        Say("never ingested: the .ok sidecar of " +
            Printable(dir.file.Child(name.substr(0, name.size() - kSidecarSuffix.size()))) +
            "; it is removed once that file is committed");
        return Status::OK();
      case NameFilter::kCandidate:
        break;
    }
    if (d.too_small) {
      Say("smaller than --min-size " + std::to_string(o_.min_size) +
          "; never ingested while it is");
      Detail("size", std::to_string(d.st.size) + " bytes");
      return Status::OK();
    }
    if (d.previous && !d.previous->kept_sha256.empty() && d.examined && d.st.IsRegular()) {
      Say("a duplicate kept in staging (--on-duplicate keep); never hashed again while unchanged");
      Detail("sha256", d.previous->kept_sha256);
      Detail("kept since", Time(d.previous->first_seen_ns));
      return Content(d.previous->kept_sha256, "duplicate of");
    }
    FileStat st = d.st;
    if (!d.examined) {
      Status s = env_->StatAt(dir.file, name, &st);
      if (!s.ok()) return s;
    }
    if (S_ISDIR(st.mode)) {
      Say("a directory; the files in it are ingested only with --recursive");
    } else {
      Say(std::string("never ingested: ") + FileType(st.mode) + "; only regular files are");
    }
    return Status::OK();
  }

  void Stability(const EntryDecision& d) {
    const int64_t now = clock_->NowNs();
    const FileStat& st = d.st;
    Detail("window", std::to_string(o_.stability_seconds) + " s (--stability-seconds)");
    if (d.previous && !d.stability.store_snapshot) {
      Detail("first seen by a pass", Time(d.previous->first_seen_ns) + ", " +
                                         Seconds(now - d.previous->first_seen_ns) +
                                         " ago, with this size, mtime and ctime");
    } else if (d.previous) {
      Detail("first seen by a pass", "changed since a pass saw it at " +
                                         Time(d.previous->first_seen_ns) +
                                         "; the window starts again at the next pass");
    } else {
      Detail("first seen by a pass", "not yet; the next pass records it");
    }
    Detail("size", std::to_string(st.size) + " bytes");
    Detail("mtime", Time(st.mtime_ns));
    Detail("ctime", Time(st.ctime_ns));
    if (decider_->network_fs()) {
      Detail("timestamps", "not evidence on a network filesystem; only a pass's sighting counts");
    } else {
      const int64_t newest = std::max(st.mtime_ns, st.ctime_ns);
      Detail("timestamps",
             newest > now ? "in the future, so no evidence"
                          : "the newer of mtime and ctime is " + Seconds(now - newest) + " old");
    }
  }

  // What showed a file complete in stability mode.
  std::string Evidence(const EntryDecision& d) {
    const int64_t now = clock_->NowNs();
    if (std::string_view(d.stability.evidence) == "observed") {
      return "a pass saw it with this size, mtime and ctime at " +
             Time(d.stability.snapshot.first_seen_ns) + ", " +
             Seconds(now - d.stability.snapshot.first_seen_ns) + " ago";
    }
    return "its mtime and ctime are " + Seconds(now - std::max(d.st.mtime_ns, d.st.ctime_ns)) +
           " old; the window is " + std::to_string(o_.stability_seconds) + " s";
  }

  Status Ready(const std::shared_ptr<StagingDir>& dir, const std::string& name, const DirEntry& e,
               const EntryDecision& d) {
    // Hashed as a pass would, writing nothing (no temp copy).
    OpenWriters writers(env_, o_.input, decider_->network_fs());
    Preparer preparer(env_, nullptr, /*keep_owner=*/false, &writers);
    Candidate c{dir, name, d.st, d.has_sidecar, e.pos};
    Prepared p;
    preparer.Prepare(c, &p);
    const std::string complete =
        o_.mode == Mode::kSidecar
            ? "complete (its sidecar " + Printable(name + std::string(kSidecarSuffix)) + " exists)"
            : "complete (" + Evidence(d) + ")";
    if (p.outcome == Prepared::Outcome::kChanged) {
      Say(complete + ", but it changed while being read; it gets another look next pass");
      return Status::OK();
    }
    if (p.outcome == Prepared::Outcome::kWriting) {
      Say(complete + ", but a process still has it open for writing; it waits until it is closed");
      return Status::OK();
    }
    if (p.outcome == Prepared::Outcome::kFailed) {
      const bool mismatch = d.has_sidecar && p.error.IsCorruption();
      Say(complete + (mismatch ? ", but its sidecar does not match: " : ", but it fails: ") +
          Printable(p.error.ToString()));
      return Status::OK();
    }
    const char* fate = o_.on_duplicate == OnDuplicate::kQuarantine ? "quarantines it"
                       : o_.on_duplicate == OnDuplicate::kDelete   ? "deletes it"
                                                                   : "keeps it in staging";
    std::string value;
    Status s = state_->Get(keys::Content(p.sha256), &value);
    if (s.IsNotFound()) return Unknown(complete, fate, p.sha256);
    if (!s.ok()) return s;
    ContentRecord rec;
    FileStat st;
    if (DecodeContentRecord(value, &rec) &&
        env_->StatPath(rec.path, /*follow=*/false, &st).IsNotFound()) {
      Say(complete +
          ", and its content was ingested before, but that file is no longer in the "
          "warehouse: " +
          NextPass("the next pass ingests it again"));
      Detail("sha256", p.sha256);
      return Content(p.sha256, "first ingest");
    }
    Say(complete + ", and a duplicate: " +
        NextPass(std::string("the next pass ") + fate + " (--on-duplicate)"));
    Detail("sha256", p.sha256);
    return Content(p.sha256, "duplicate of");
  }

  // What the next pass does with a file that hashes fine here: `plan`,
  // unless its last attempt failed at a step explain does not try (the
  // claim, the move, the copy, the manifest): then that step is what the
  // next pass meets again. The failure itself is detailed below the line.
  std::string NextPass(const std::string& plan) const {
    if (failure_ == nullptr) return plan;
    // A checksum mismatch, or a stat that failed in the scan (no inode on
    // record), happened at a step that explain just passed.
    if (static_cast<Status::Code>(failure_->code) == Status::Code::kCorruption ||
        failure_->ino == 0) {
      return "its last attempt failed (below), but it reads and checks fine now: " + plan;
    }
    switch (FailureLog::Outlook(*failure_)) {
      case FailureOutlook::kRecurs:
        return "its last attempt failed (below); the next pass tries again and will likely fail "
               "the same way unless the cause is fixed";
      case FailureOutlook::kPasses:
        return "its last attempt failed (below) because the file changed meanwhile; the next "
               "pass retries it";
      case FailureOutlook::kUnknown:
        break;
    }
    return "its last attempt failed (below); the next pass tries it again";
  }

  // A complete file whose content this instance never ingested: new,
  // unless another instance sharing the warehouse claimed it.
  Status Unknown(const std::string& complete, const char* fate, const std::string& sha256) {
    File warehouse;
    std::optional<Claim> claim;
    bool present = false;
    Status s = env_->OpenDir(o_.warehouse, &warehouse);
    std::string owner;
    File state_dir;
    if (s.ok() && env_->OpenDir(o_.state_path, &state_dir).ok()) {
      s = LoadClaimOwner(env_, state_dir, /*create=*/false, &owner);
    }
    if (s.ok()) {
      ClaimSpace claims(env_, &warehouse, state_, owner, /*writable=*/false);
      s = claims.Refresh();
      if (s.ok()) s = claims.Find(sha256, &claim);
      if (!s.ok()) return s;
      present = claim && claims.OriginalPresent(*claim);
      if (present) {
        Say(complete + ", and a duplicate of a file another instance ingested: " +
            NextPass(std::string("the next pass ") + fate + " (--on-duplicate)"));
      } else if (claim) {
        bool recorded = false;
        File manifests;
        if (env_->OpenDir(o_.manifests, &manifests).ok()) {
          s = ClaimCommitRecorded(env_, manifests, o_.warehouse, *claim, &recorded);
          if (!s.ok()) return s;
        }
        Say(complete + (recorded
                            ? ", and another instance ingested its content, but that file is no "
                              "longer in the warehouse: the next pass ingests it again"
                            : ", but a commit of another instance claimed its content and its "
                              "file is not in the warehouse yet; it waits in staging until it is"));
      }
    } else if (!s.IsNotFound()) {
      return s;
    }
    if (!claim) Say(complete + "; " + NextPass("the next pass ingests it"));
    Detail("sha256", sha256);
    std::string value;
    ForgetRecord forgotten;
    s = state_->Get(keys::Forgotten(sha256), &value);
    if (s.ok() && DecodeForgetRecord(value, &forgotten)) {
      Detail("forgotten at", Time(forgotten.forgotten_at_ns) +
                                 (forgotten.reason.empty() ? "" : " (" + forgotten.reason + ")"));
      Detail("formerly ingested as", Printable(forgotten.path));
    } else if (!s.ok() && !s.IsNotFound()) {
      return s;
    }
    if (claim) {
      Detail(present ? "duplicate of" : "claimed for",
             Printable(JoinPath(o_.warehouse, claim->path)));
      Detail("claimed by instance", claim->owner);
    }
    return Status::OK();
  }

  // The first ingest of a content, from the content index.
  Status Content(const std::string& sha256, const std::string& relation) {
    std::string value;
    Status s = state_->Get(keys::Content(sha256), &value);
    if (s.IsNotFound()) {
      Detail(relation, "no record of that content in the state");
      return Status::OK();
    }
    ContentRecord r;
    if (!s.ok()) return s;
    if (!DecodeContentRecord(value, &r)) {
      return Status::Corruption("state: undecodable content record for " + sha256);
    }
    Detail(relation, Printable(r.path));
    Detail("first ingested from", Printable(r.source));
    Detail("manifest", Printable(r.manifest));
    Detail("ingested at", Time(r.ingested_at_ns));
    return Status::OK();
  }

  Status Outside(bool* known) {
    File root;
    FileStat st;
    Status s = env_->OpenDir("/", &root);
    if (!s.ok()) return s;
    s = env_->StatAt(root, o_.path.substr(1), &st);
    if (!s.ok() && !s.IsNotFound()) return s;
    const bool exists = s.ok();
    // A warehouse file is explained by the record that put it there; only
    // a path that is in neither tree is "outside".
    const bool in_warehouse =
        !o_.warehouse.empty() && (o_.path == o_.warehouse || IsInside(o_.path, o_.warehouse));
    if (exists && !in_warehouse) {
      Say("outside --input " + Printable(o_.input) + "; never ingested from there");
    }
    bool found = false;
    s = Records(&found);
    if (!s.ok()) return s;
    if (exists && in_warehouse && !found) {
      Say("in the warehouse, but no record names it (a quarantined duplicate, or a file put "
          "there by hand)");
    }
    if (!exists && !found) {
      Say("no such file, and no record names it");
      *known = false;
    }
    return Status::OK();
  }

  // No longer in staging (or never was): its last failure, if one is
  // still recorded, and the records that name it.
  Status Gone(const StagingDir* dir, bool* known) {
    bool found = false;
    Status s = Records(&found);
    if (!s.ok()) return s;
    if (!found) {
      Say("not in staging, and no record names it");
      *known = false;
    }
    if (dir != nullptr) {
      std::optional<FailureRecord> failure;
      s = FailureLog::Find(state_, dir->st.ino, o_.path.substr(o_.path.rfind('/') + 1), &failure);
      if (!s.ok()) return s;
      if (failure) {
        Detail("last failure", Printable(failure->error));
        Detail("failed at", Time(failure->at_ns));
      }
    }
    return Status::OK();
  }

  // The records whose source or warehouse path is PATH: the content index,
  // or when it names none, the manifests (the source of truth; a state
  // rebuilt or lost knows less). At most --limit of them are shown.
  Status Records(bool* found) {
    uint64_t matches = 0;
    const std::string& path = o_.path;
    auto show = [&](const std::string& source, const std::string& dest, const std::string& sha,
                    const std::string& where, const std::string& when) {
      if (o_.limit != 0 && matches >= static_cast<uint64_t>(o_.limit)) {
        ++matches;
        return;
      }
      ++matches;
      if (source == path) {
        Say("ingested as " + Printable(dest));
      } else {
        Say("in the warehouse; ingested from " + Printable(source));
      }
      Detail("sha256", sha);
      Detail("manifest", Printable(where));
      Detail("ingested at", when);
    };
    Status s = state_->Scan(keys::kContent, [&](std::string_view key, std::string_view value) {
      ContentRecord r;
      if (DecodeContentRecord(value, &r) && (r.source == path || r.path == path)) {
        show(r.source, r.path, std::string(key.substr(keys::kContent.size())), r.manifest,
             Time(r.ingested_at_ns));
      }
      return true;
    });
    if (!s.ok()) return s;
    if (matches == 0 && !o_.manifests.empty()) {
      s = SearchManifests([&](const std::string& manifest, const ManifestLine& line) {
        ManifestRecord r;
        if (ParseManifestLine(line.text, &r) && (r.source == path || r.path == path)) {
          show(r.source, r.path, r.sha256, manifest + ":" + std::to_string(line.number),
               r.ingested_at);
        }
      });
      if (!s.ok()) return s;
    }
    if (o_.limit != 0 && matches > static_cast<uint64_t>(o_.limit)) {
      Say("... and " + std::to_string(matches - o_.limit) + " more records (--limit)");
    }
    *found = matches > 0;
    return Status::OK();
  }

  using LineFn = std::function<void(const std::string&, const ManifestLine&)>;

  // Every complete line of every manifest; the parts of the tree that are
  // gone meanwhile are passed over.
  Status SearchManifests(const LineFn& fn) {
    File root;
    Status s = env_->OpenDir(o_.manifests, &root);
    if (s.IsNotFound()) return Status::OK();
    if (!s.ok()) return s;
    ManifestTree tree(env_, root);
    for (;;) {
      ManifestFile m;
      bool done = false;
      s = tree.Next(&m, &done);
      if (s.IsNotFound()) continue;
      if (!s.ok() || done) return s;
      ManifestLineReader reader(env_, m.file);
      s = reader.ForEach([&](const ManifestLine& line) {
        fn(m.file.path(), line);
        return Status::OK();
      });
      if (!s.ok()) return s;
    }
  }

  const Options& o_;
  Env* env_;
  Clock* clock_;
  StateStore* state_;
  std::string* out_;
  File input_;
  FileStat input_st_;
  std::unique_ptr<EntryDecider> decider_;
  // The last failure of the file being explained, if one is recorded.
  const FailureRecord* failure_ = nullptr;
  std::string entry_name_;  // backs the name of the last entry found
};

}  // namespace

Status Explain(const Options& options, Env* env, Clock* clock, StateStore* state, std::string* out,
               bool* known) {
  Explainer explainer(options, env, clock, state, out);
  return explainer.Run(known);
}

}  // namespace ingest
