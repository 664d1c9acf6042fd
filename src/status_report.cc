#include "status_report.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "dir_scanner.h"
#include "entry_decider.h"
#include "failure_log.h"
#include "fs_util.h"
#include "intent_journal.h"
#include "name_escape.h"
#include "prepare.h"
#include "records.h"
#include "scan.h"
#include "snapshot_table.h"

namespace ingest {

namespace json = boost::json;

namespace {

void Add(PendingGroup* g, int64_t limit, PendingFile f) {
  ++g->count;
  if (limit == 0 || g->files.size() < static_cast<uint64_t>(limit))
    g->files.push_back(std::move(f));
}

// Sorts the entries of staging into the report's groups.
class StatusScan {
 public:
  StatusScan(const Options& o, Env* env, Clock* clock, StateStore* state, StatusReport* report)
      : o_(o), env_(env), clock_(clock), state_(state), report_(report) {}

  Status Run() {
    File input;
    FileStat input_st;
    Status s = env_->OpenDir(o_.input, &input);
    if (s.ok()) s = env_->Stat(input, &input_st);
    if (!s.ok()) return s;
    EntryDecider decider(env_, o_, clock_, input, input_st, nullptr);
    s = decider.Init();
    if (!s.ok()) return s;
    StagingWalk walk(env_, input, &decider);
    for (;;) {
      std::shared_ptr<StagingDir> dir;
      DirPlace place;
      bool done = false;
      s = walk.Next(&dir, &place, &done);
      if (!s.ok() || done) return s;
      if (place == DirPlace::kOtherMount) {
        ++report_->skipped;  // the pass does not descend there either
        continue;
      }
      s = ListDir(&decider, &walk, *dir);
      if (!s.ok()) return s;
    }
  }

 private:
  Status ListDir(EntryDecider* decider, StagingWalk* walk, const StagingDir& dir) {
    SnapshotTable table(state_, dir.st.ino, /*writable=*/false);
    table.Begin(0);
    bool any_failures = false;
    Status s = FailureLog::AnyIn(state_, dir.st.ino, &any_failures);
    if (!s.ok()) return s;
    DirScanner scanner(env_, &dir.file);
    const int64_t limit = report_->limit;
    for (;;) {
      DirEntry e;
      bool done = false;
      s = scanner.Next(&e, &done);
      if (!s.ok()) return s;
      if (done) return Status::OK();
      EntryDecision d;
      s = decider->Decide(dir.file, dir.rel, e, &table, &d);
      if (!s.ok()) return s;
      std::optional<FailureRecord> failure;
      if (any_failures &&
          (d.verdict == EntryVerdict::kFailed || d.verdict == EntryVerdict::kReady)) {
        s = FailureLog::Find(state_, dir.st.ino, e.name, &failure);
        if (!s.ok()) return s;
        if (failure && d.examined && !FailureLog::Describes(*failure, d.st)) failure.reset();
      }
      // The backlog, from the stat the decision already made.
      auto wait_in = [&](BacklogGroup* group) {
        if (d.examined) {
          report_->backlog.Add(group, d.st, [&] { return dir.file.Child(e.name); });
        } else {
          Backlog::AddUnexamined(group);
        }
      };
      PendingFile f;
      switch (d.verdict) {
        case EntryVerdict::kGone:
          continue;
        case EntryVerdict::kOtherShard:
          ++report_->other_shards;
          continue;
        case EntryVerdict::kSkip:
        case EntryVerdict::kUnresolved:
          ++report_->skipped;
          continue;
        case EntryVerdict::kDescend:
          walk->Descend(dir, e.name);
          continue;
        case EntryVerdict::kWaitSidecar:
          f.path = dir.file.Child(e.name);
          wait_in(&report_->backlog.waiting_for_ok);
          Add(&report_->sidecar, limit, std::move(f));
          continue;
        case EntryVerdict::kWaitStable:
          f.path = dir.file.Child(e.name);
          f.wait_ns = d.stability.wait_ns;
          if (d.previous && !d.stability.store_snapshot)
            f.first_seen_ns = d.previous->first_seen_ns;
          wait_in(&report_->backlog.not_yet_stable);
          Add(&report_->unstable, limit, std::move(f));
          continue;
        case EntryVerdict::kFailed:
        case EntryVerdict::kReady:
          break;
      }
      f.path = dir.file.Child(e.name);
      if (d.verdict == EntryVerdict::kReady && !failure) {
        f.evidence = d.stability.evidence;
        wait_in(&report_->backlog.ready);
        Add(&report_->ready, limit, std::move(f));
        continue;
      }
      // Failed now (the error of this look), or ready but failed when a
      // pass last tried it: the next pass tries again.
      f.error = d.verdict == EntryVerdict::kFailed ? d.error.ToString() : failure->error;
      if (failure) {
        f.failed_at_ns = failure->at_ns;
        f.attempts = failure->attempts;
      }
      wait_in(&report_->backlog.failed);
      Add(&report_->failed, limit, std::move(f));
    }
  }

  const Options& o_;
  Env* env_;
  Clock* clock_;
  StateStore* state_;
  StatusReport* report_;
};

Status MeasureState(Env* env, StateStore* state, StateReport* out) {
  for (const char* prefix : {"c/", "f/", "i/", "m/", "s/", "other"}) out->records[prefix] = 0;
  if (!out->exists) return Status::OK();
  File db;
  Status s = env->OpenDir(out->db, &db);
  if (!s.ok()) return s;
  s = ForEachEntry(env, db, [&](const DirEntry& e) {
    FileStat st;
    // Files LevelDB deletes meanwhile (an old log, a compacted table) are
    // no longer part of its size.
    Status stat = env->StatAt(db, std::string(e.name), &st);
    if (stat.ok() && st.IsRegular()) out->bytes += st.size;
    return stat.IsNotFound() ? Status::OK() : stat;
  });
  if (!s.ok()) return s;
  std::unique_ptr<StateIterator> it = state->NewIterator();
  for (it->Seek(""); it->Valid(); it->Next()) {
    const std::string_view key = it->key();
    auto counted =
        key.size() >= 2 ? out->records.find(std::string(key.substr(0, 2))) : out->records.end();
    if (counted == out->records.end()) counted = out->records.find("other");
    ++counted->second;
  }
  if (!it->status().ok()) return it->status();
  s = state->Get(keys::kLastPass, &out->last_pass);
  if (s.IsNotFound()) {
    out->last_pass.clear();
    return Status::OK();
  }
  return s;
}

// The host that ran the last pass, from its summary; "" if not recorded.
std::string LastPassHost(const std::string& last_pass) {
  if (last_pass.empty()) return "";
  boost::system::error_code ec;
  const json::value v = json::parse(last_pass, ec);
  if (ec || !v.is_object()) return "";
  const json::value* host = v.as_object().if_contains("host");
  return host != nullptr && host->is_string() ? std::string(host->as_string()) : "";
}

std::string Seconds(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ns) / kNanosPerSecond);
  return buf;
}

// The listed files of a group, then how many more there are.
void ListText(const PendingGroup& g, const char* title, const char* note, std::string* out,
              const std::function<std::string(const PendingFile&)>& describe) {
  *out += std::string(title) + ": " + std::to_string(g.count) + note + "\n";
  for (const PendingFile& f : g.files) {
    const std::string more = describe(f);
    *out += "  " + Printable(f.path) + (more.empty() ? "" : ": " + more) + "\n";
  }
  if (g.count > g.files.size()) {
    *out += "  ... and " + std::to_string(g.count - g.files.size()) + " more\n";
  }
}

// `s` as a JSON string; names that are not UTF-8 are escaped and said so.
json::string JsonText(std::string_view s, bool* escaped) {
  if (IsValidUtf8(s)) return json::string(s);
  *escaped = true;
  return json::string(EscapeName(s));
}

double JsonSeconds(int64_t ns) {
  return std::round(static_cast<double>(ns) / kNanosPerSecond * 1000) / 1000;
}

json::object GroupJson(const PendingGroup& g,
                       const std::function<void(const PendingFile&, json::object*, bool*)>& fill) {
  json::array files;
  for (const PendingFile& f : g.files) {
    json::object o;
    bool escaped = false;
    o["path"] = JsonText(f.path, &escaped);
    fill(f, &o, &escaped);
    if (escaped) o["escaped"] = true;
    files.push_back(std::move(o));
  }
  json::object o;
  o["count"] = g.count;
  o["files"] = std::move(files);
  o["more"] = g.count - g.files.size();
  return o;
}

}  // namespace

Status GatherStatus(const Options& options, Env* env, Clock* clock, StateStore* state,
                    const std::string& db, bool db_exists, StatusReport* report) {
  report->input = options.input;
  report->mode = options.mode;
  report->stability_seconds = options.stability_seconds;
  report->recursive = options.recursive;
  report->limit = options.limit;
  report->shard = options.shard;
  report->state.db = db;
  report->state.exists = db_exists;
  StatusScan scan(options, env, clock, state, report);
  Status s = scan.Run();
  if (!s.ok()) return s;
  report->backlog_age_ns = report->backlog.OldestAgeNs(clock->NowNs());
  s = MeasureState(env, state, &report->state);
  if (!s.ok() || !db_exists) return s;
  File state_dir;
  s = env->OpenDir(options.state_path, &state_dir);
  if (!s.ok()) return s;
  return CountOpenIntents(env, state_dir, state, &report->state.journal_open);
}

std::string StatusText(const StatusReport& r) {
  std::string out = "staging " + Printable(r.input) + ": " +
                    (r.mode == Mode::kSidecar
                         ? std::string("sidecar mode")
                         : "stability mode, " + std::to_string(r.stability_seconds) + " s window") +
                    (r.recursive ? ", recursive" : "") + "\n";
  ListText(r.unstable, "not yet stable", "", &out, [](const PendingFile& f) {
    std::string s = Seconds(f.wait_ns) + " to go";
    if (f.first_seen_ns != 0) s += " (first seen " + UtcTime(f.first_seen_ns).Rfc3339() + ")";
    return s;
  });
  ListText(r.sidecar, "waiting for .ok", "", &out, [](const PendingFile&) { return ""; });
  ListText(r.failed, "failed", " (retried by the next pass)", &out, [](const PendingFile& f) {
    std::string s = Printable(f.error);
    if (f.failed_at_ns != 0) {
      s += " (at " + UtcTime(f.failed_at_ns).Rfc3339() + ", " + std::to_string(f.attempts) +
           (f.attempts == 1 ? " attempt)" : " attempts)");
    }
    return s;
  });
  ListText(r.ready, "ready", " (the next pass takes them)", &out, [](const PendingFile& f) {
    return *f.evidence ? std::string("complete by ") + f.evidence : std::string();
  });
  const Backlog& b = r.backlog;
  auto group = [](const char* title, const BacklogGroup& g) {
    return std::string(title) + ": " + std::to_string(g.files) + ", " + std::to_string(g.bytes) +
           " bytes";
  };
  out += "backlog: " + std::to_string(b.files()) + " files, " + std::to_string(b.bytes()) +
         " bytes (" + group("not yet stable", b.not_yet_stable) + "; " +
         group("waiting for .ok", b.waiting_for_ok) + "; " + group("failed", b.failed) + "; " +
         group("ready", b.ready) + ")\n";
  out += "oldest waiting: " +
         (b.oldest_path.empty() ? std::string("none")
                                : Printable(b.oldest_path) + ", " + Seconds(r.backlog_age_ns) +
                                      " (changed " + UtcTime(b.oldest_ctime_ns).Rfc3339() + ")") +
         "\n";
  out += "skipped: " + std::to_string(r.skipped) + " (never candidates)\n";
  if (r.shard.enabled()) {
    out += "shard: " + r.shard.ToString() + "; " + std::to_string(r.other_shards) +
           " entries of other shards not counted above\n";
  }
  out += "last pass: " + (r.state.last_pass.empty() ? "none recorded" : r.state.last_pass) + "\n";
  const std::string host = LastPassHost(r.state.last_pass);
  if (!host.empty()) out += "last pass ran on: " + Printable(host) + "\n";
  if (!r.state.exists) {
    out += "state " + Printable(r.state.db) + ": none yet\n";
    return out;
  }
  auto n = [&](const char* prefix) { return std::to_string(r.state.records.at(prefix)); };
  out += "state " + Printable(r.state.db) + ": " + std::to_string(r.state.bytes) + " bytes; " +
         n("c/") + " contents (c/), " + n("i/") + " open commits (i/), " +
         std::to_string(r.state.journal_open) + " in the intent journal, " + n("s/") +
         " stability snapshots (s/), " + n("f/") + " failures (f/), " + n("m/") + " other (m/)";
  if (r.state.records.at("other") != 0) out += ", " + n("other") + " unknown";
  out += "\n";
  return out;
}

std::string StatusJson(const StatusReport& r) {
  json::object doc;
  bool escaped = false;
  doc["input"] = JsonText(r.input, &escaped);
  doc["mode"] = r.mode == Mode::kSidecar ? "sidecar" : "stability";
  doc["stability_seconds"] = r.stability_seconds;
  doc["recursive"] = r.recursive;
  doc["limit"] = r.limit;
  json::object groups;
  groups["not_yet_stable"] =
      GroupJson(r.unstable, [](const PendingFile& f, json::object* o, bool*) {
        (*o)["wait_seconds"] = JsonSeconds(f.wait_ns);
        if (f.first_seen_ns != 0) (*o)["first_seen"] = UtcTime(f.first_seen_ns).Rfc3339();
      });
  groups["waiting_for_ok"] = GroupJson(r.sidecar, [](const PendingFile&, json::object*, bool*) {});
  groups["failed"] = GroupJson(r.failed, [](const PendingFile& f, json::object* o, bool* esc) {
    (*o)["error"] = JsonText(f.error, esc);
    if (f.failed_at_ns != 0) {
      (*o)["failed_at"] = UtcTime(f.failed_at_ns).Rfc3339();
      (*o)["attempts"] = f.attempts;
    }
  });
  groups["ready"] = GroupJson(r.ready, [](const PendingFile& f, json::object* o, bool*) {
    if (*f.evidence) (*o)["evidence"] = f.evidence;
  });
  const Backlog& b = r.backlog;
  for (const auto& [name, g] : {std::pair{"not_yet_stable", &b.not_yet_stable},
                                std::pair{"waiting_for_ok", &b.waiting_for_ok},
                                std::pair{"failed", &b.failed}, std::pair{"ready", &b.ready}}) {
    groups[name].as_object()["bytes"] = g->bytes;
  }
  doc["groups"] = std::move(groups);
  json::object backlog;
  backlog["files"] = b.files();
  backlog["bytes"] = b.bytes();
  json::value oldest = nullptr;
  if (!b.oldest_path.empty()) {
    json::object o;
    bool oldest_escaped = false;
    o["path"] = JsonText(b.oldest_path, &oldest_escaped);
    o["changed"] = UtcTime(b.oldest_ctime_ns).Rfc3339();
    o["age_seconds"] = JsonSeconds(r.backlog_age_ns);
    if (oldest_escaped) o["escaped"] = true;
    oldest = std::move(o);
  }
  backlog["oldest"] = std::move(oldest);
  doc["backlog"] = std::move(backlog);
  doc["skipped"] = r.skipped;
  doc["shard"] = r.shard.enabled() ? json::value(r.shard.ToString()) : json::value(nullptr);
  doc["other_shards"] = r.other_shards;
  json::value last_pass = nullptr;
  if (!r.state.last_pass.empty()) {
    boost::system::error_code ec;
    last_pass = json::parse(r.state.last_pass, ec);
    if (ec) last_pass = json::string(EscapeName(r.state.last_pass));
  }
  doc["last_pass"] = std::move(last_pass);
  json::object state;
  state["db"] = JsonText(r.state.db, &escaped);
  state["exists"] = r.state.exists;
  state["bytes"] = r.state.bytes;
  json::object records;
  for (const auto& [prefix, count] : r.state.records) {
    records[prefix == "other" ? prefix : prefix.substr(0, 1)] = count;
  }
  state["records"] = std::move(records);
  state["journal_open"] = r.state.journal_open;
  doc["state"] = std::move(state);
  if (escaped) doc["escaped"] = true;
  return json::serialize(doc) + "\n";
}

}  // namespace ingest
