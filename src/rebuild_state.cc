#include "rebuild_state.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dir_scanner.h"
#include "forget.h"
#include "fs_util.h"
#include "intent_journal.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "records.h"
#include "state_shard.h"
#include "state_store.h"

namespace ingest {

namespace {

constexpr size_t kWriteBatch = 1000;

int64_t ParseRfc3339(const std::string& s) {
  struct tm tm = {};
  int micros = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) < 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t{timegm(&tm)} * 1000000000 + int64_t{micros} * 1000;
}

// Renames `name` in `dir` to "<name>.replaced-<now_ns>" beside it, never
// deleting anything; *aside gets the new path.
Status KeepAside(Env* env, const File& dir, const std::string& name, int64_t now_ns,
                 std::string* aside) {
  const std::string to = name + ".replaced-" + std::to_string(now_ns);
  *aside = dir.Child(to);
  Status s = env->Rename(dir, name, dir, to);
  if (!s.ok()) {
    return Status::IOError("cannot move " + dir.Child(name) + " aside: " + std::strerror(s.err()),
                           s.err());
  }
  return Status::OK();
}

// Removes the database directory `name` in `dir` that a rebuild cut short
// left behind, if any. It holds only LevelDB's files, no subdirectory.
Status RemoveUnfinished(Env* env, const File& dir, const std::string& name) {
  File db;
  Status s = env->OpenDirAt(dir, name, &db);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  std::vector<std::string> files;
  s = ForEachEntry(env, db, [&](const DirEntry& e) {
    files.emplace_back(e.name);
    return Status::OK();
  });
  if (!s.ok()) return s;
  for (const std::string& f : files) {
    s = env->Unlink(db, f);
    if (!s.ok()) return s;
  }
  return env->RemoveDirAt(dir, name);
}

// Whether `name` exists in `dir`; with `nonempty`, only when it has bytes.
Status Exists(Env* env, const File& dir, const std::string& name, bool nonempty, bool* exists) {
  FileStat st;
  Status s = env->StatAt(dir, name, &st);
  *exists = s.ok() && (!nonempty || st.size > 0);
  return s.IsNotFound() ? Status::OK() : s;
}

class Rebuilder {
 public:
  Rebuilder(Env* env, StateStore* store, RebuildStats* stats)
      : env_(env), store_(store), stats_(stats) {}

  // Reads every manifest below `root`, oldest first, and the forget log
  // beside them.
  Status ReadTree(const File& root) {
    Status s = ReadForgetLog(env_, root, &forgotten_);
    if (!s.ok()) return s;
    for (const auto& [sha, f] : forgotten_) {
      writes_.push_back({keys::Forgotten(sha),
                         EncodeForgetRecord(ForgetRecord{f.path, f.forgotten_at_ns, f.reason})});
    }
    ManifestTree tree(env_, root);
    for (;;) {
      ManifestFile m;
      bool done = false;
      s = tree.Next(&m, &done);
      if (!s.ok() || done) return s;
      s = ReadManifest(m.file);
      if (!s.ok()) return s;
    }
  }

  Status Flush() {
    if (writes_.empty()) return Status::OK();
    Status s = store_->Apply(writes_, /*sync=*/true);
    writes_.clear();
    return s;
  }

 private:
  Status ReadManifest(const File& f) {
    ++stats_->manifests;
    ManifestLineReader reader(env_, f);
    Status s = reader.ForEach(
        [&](const ManifestLine& line) { return Line(f.path(), line.number, line.text); });
    if (!s.ok()) return s;
    if (reader.torn_tail()) {
      ++stats_->skipped;
      spdlog::warn("{}: ignoring an incomplete last line", f.path());
    }
    return Status::OK();
  }

  Status Line(const std::string& manifest, uint64_t line_no, std::string_view line) {
    ManifestRecord r;
    if (!ParseManifestLine(line, &r)) {
      ++stats_->skipped;
      spdlog::warn("{}:{}: not a manifest record, ignored", manifest, line_no);
      return Status::OK();
    }
    // Ingested before it was forgotten: as if never known.
    auto forgotten = forgotten_.find(r.sha256);
    if (forgotten != forgotten_.end() &&
        ParseRfc3339(r.ingested_at) <= forgotten->second.forgotten_at_ns) {
      ++stats_->forgotten;
      return Status::OK();
    }
    std::string existing;
    Status s = store_->Get(keys::Content(r.sha256), &existing);
    // A re-ingest of a missing original supersedes the first record.
    if (s.ok() && r.reingest_of.empty()) {
      ++stats_->repeats;
      spdlog::warn("{}:{}: content {} is already recorded; keeping the first record", manifest,
                   line_no, r.sha256);
      return Status::OK();
    }
    if (!s.IsNotFound()) return s;
    ContentRecord rec{r.path, r.source, manifest, r.size, ParseRfc3339(r.ingested_at)};
    writes_.push_back({keys::Content(r.sha256), EncodeContentRecord(rec)});
    ++stats_->records;
    // Flushed often enough that the duplicate check above sees earlier lines.
    return writes_.size() >= kWriteBatch ? Flush() : Status::OK();
  }

  Env* env_;
  StateStore* store_;
  RebuildStats* stats_;
  std::vector<StateWrite> writes_;
  std::map<std::string, ForgetLogRecord> forgotten_;
};

}  // namespace

Status RebuildState(const Options& options, Env* env, int64_t now_ns, RebuildStats* stats) {
  const std::string fresh = "db.rebuild";
  const std::string db = "db";
  const std::string journal(IntentJournal::kFileName);
  File state_dir;
  Status s = env->OpenDir(options.state_path, &state_dir);
  if (s.ok()) s = RemoveUnfinished(env, state_dir, fresh);
  if (!s.ok()) return s;
  File root;
  s = env->OpenDir(options.manifests, &root);
  if (!s.ok()) return s;
  {
    std::unique_ptr<StateStore> store;
    s = OpenLevelDbStore(state_dir.Child(fresh), /*create=*/true, &store);
    if (!s.ok()) return s;
    Rebuilder rebuilder(env, store.get(), stats);
    s = rebuilder.ReadTree(root);
    if (s.ok()) s = rebuilder.Flush();
    if (s.ok()) s = RecordStateShard(store.get(), options);
    if (!s.ok()) return s;
  }
  // The intent journal's batches are numbered against the old database's
  // mark; read against the new one, closed batches would look open. Kept
  // aside like the database, and first: a crash between the two must not
  // leave the new database beside the old journal.
  bool exists = false;
  std::string aside;
  s = Exists(env, state_dir, journal, /*nonempty=*/true, &exists);
  if (s.ok() && exists) s = KeepAside(env, state_dir, journal, now_ns, &aside);
  if (!s.ok()) return s;
  if (exists) {
    spdlog::warn(
        "the intent journal {} was not empty (the last pass did not end cleanly); it is "
        "kept as {}",
        state_dir.Child(journal), aside);
  }
  // Swap: the old database (if any) is kept aside, never deleted.
  s = Exists(env, state_dir, db, /*nonempty=*/false, &exists);
  if (s.ok() && exists) s = KeepAside(env, state_dir, db, now_ns, &aside);
  if (!s.ok()) return s;
  if (exists) spdlog::info("the previous state database is kept as {}", aside);
  s = env->Rename(state_dir, fresh, state_dir, db);
  if (!s.ok()) {
    return Status::IOError(
        "cannot move " + state_dir.Child(fresh) + " into place: " + std::strerror(s.err()),
        s.err());
  }
  return env->Sync(state_dir);
}

}  // namespace ingest
