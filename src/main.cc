// atomic-ingest: moves complete files from a staging directory into a
// date-partitioned warehouse, exactly once, with a manifest record each.

#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli.h"
#include "clock.h"
#include "env.h"
#include "explain.h"
#include "fs_util.h"
#include "ingest_pass.h"
#include "logging.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "mem_state_store.h"
#include "metrics.h"
#include "rebuild_state.h"
#include "records.h"
#include "signal_fd.h"
#include "state_store.h"
#include "status_report.h"
#include "verify.h"
#include "version.h"
#include "watch.h"

namespace ingest {
namespace {

// Exit codes (README.md, "Exit codes").
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitLocked = 75;  // EX_TEMPFAIL

constexpr const char* kStateDbName = "db";

struct Command {
  const char* name;
  const char* description;
  unsigned roots;  // RootFlags the command requires
  int (*run)(const Options&);
};

// Opens the state directory, creating it unless `read_only`, and takes its
// run lock. Busy when another run holds it.
Status LockState(const Options& o, bool read_only, File* dir) {
  Env* env = Env::Default();
  Status s = env->OpenDir(o.state_path, dir);
  if (s.IsNotFound() && !read_only) {
    File root;
    bool created = false;
    File made;
    s = env->OpenDir("/", &root);
    if (s.ok()) {
      s = OpenOrCreateDirs(env, root, std::string_view(o.state_path).substr(1), &made, &created);
    }
    if (s.ok()) s = env->OpenDir(o.state_path, dir);
  }
  if (!s.ok()) return s;
  return env->LockFile(*dir);
}

// True when some manifest under `root` holds a record. Parts of the tree
// that cannot be read are passed over: this only decides whether a missing
// state database is an error.
bool ManifestsHoldRecords(Env* env, const std::string& root) {
  File dir;
  if (!env->OpenDir(root, &dir).ok()) return false;
  ManifestTree tree(env, dir);
  for (;;) {
    ManifestFile m;
    bool done = false;
    Status s = tree.Next(&m, &done);
    if (done) return false;
    FileStat st;
    if (s.ok() && env->Stat(m.file, &st).ok() && st.size > 0) return true;
  }
}

std::string SummaryJson(const PassStats& st, double seconds) {
  char buf[768];
  std::snprintf(
      buf, sizeof buf,
      "{\"files_ingested\":%llu,\"bytes_ingested\":%llu,\"duplicates\":%llu,"
      "\"deferred\":%llu,\"failed\":%llu,\"skipped\":%llu,\"recovered\":%llu,"
      "\"files_per_sec\":%.1f,\"bytes_per_sec\":%.0f,\"queue_depth\":%llu,"
      "\"hooks_completed\":%llu,\"hooks_failed\":%llu,\"duration\":%.3f}",
      static_cast<unsigned long long>(st.files_ingested),
      static_cast<unsigned long long>(st.bytes_ingested),
      static_cast<unsigned long long>(st.duplicates), static_cast<unsigned long long>(st.deferred),
      static_cast<unsigned long long>(st.failed), static_cast<unsigned long long>(st.skipped),
      static_cast<unsigned long long>(st.recovered),
      seconds > 0 ? static_cast<double>(st.files_ingested) / seconds : 0.0,
      seconds > 0 ? static_cast<double>(st.bytes_ingested) / seconds : 0.0,
      static_cast<unsigned long long>(st.queue_depth_peak),
      static_cast<unsigned long long>(st.hooks_completed),
      static_cast<unsigned long long>(st.hooks_failed), seconds);
  return buf;
}

// The state a pass works on: the state directory, whose descriptor holds
// the run lock, and the database in it.
struct LockedState {
  File dir;
  std::unique_ptr<StateStore> store;
};

// Takes the run lock on --state-path and opens its database: for a dry run
// a private copy of it, or an empty state before the first run. Busy when
// another run holds the lock.
Status OpenLockedState(const Options& o, LockedState* out) {
  Status s = LockState(o, o.dry_run, &out->dir);
  if (!s.ok() && !(o.dry_run && s.IsNotFound())) return s;
  const std::string db = JoinPath(o.state_path, kStateDbName);
  if (o.dry_run) {
    // Plan against a copy, or an empty state before the first run.
    if (s.ok()) s = OpenLevelDbSnapshot(db, &out->store);
    if (s.IsNotFound()) {
      out->store = std::make_unique<MemStateStore>();
      s = Status::OK();
    }
    return s;
  }
  // A state directory that lost its database would ingest everything
  // again: refuse, and point at the repair.
  if (!std::filesystem::exists(JoinPath(db, "CURRENT")) &&
      ManifestsHoldRecords(Env::Default(), o.manifests)) {
    return Status::Corruption("state database " + db + " is missing, but the manifests in " +
                              o.manifests +
                              " hold records; run 'atomic-ingest rebuild-state' to rebuild it "
                              "from them");
  }
  return OpenLevelDbStore(db, /*create=*/true, &out->store);
}

struct PassOutcome {
  PassStats stats;
  Status status;  // why the pass stopped early
  bool metrics_failed = false;
};

// One pass over the locked state: logs its summary, keeps it in the state
// as the last pass's, and rewrites --metrics-file (errors logged).
PassOutcome RunOnePass(const Options& o, StateStore* state, const std::atomic<bool>* stop) {
  PassOutcome out;
  Clock* clock = Clock::Real();
  const int64_t start = clock->NowNs();
  out.status = RunIngestPass(o, Env::Default(), clock, state, &out.stats, stop);
  const double seconds = static_cast<double>(clock->NowNs() - start) / 1e9;
  const std::string summary = SummaryJson(out.stats, seconds);
  if (!out.status.ok()) spdlog::error("pass stopped: {}", out.status.ToString());
  spdlog::info("summary {}", summary);
  if (o.dry_run) return out;
  (void)state->Apply({{std::string(keys::kLastPass), summary}}, true);
  if (!o.metrics_file.empty()) {
    Status m = WriteMetricsFile(Env::Default(), state, o.metrics_file, out.stats, out.status.ok(),
                                seconds, clock->NowNs());
    if (!m.ok()) {
      spdlog::error("--metrics-file: {}", m.ToString());
      out.metrics_failed = true;
    }
  }
  return out;
}

int RunPass(const Options& o) {
  LockedState state;
  Status s = OpenLockedState(o, &state);
  if (s.IsBusy()) {
    // Expected under cron when a long pass overlaps the next tick: quiet.
    spdlog::debug("{}", s.ToString());
    return kExitLocked;
  }
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return kExitFailed;
  }
  const PassOutcome pass = RunOnePass(o, state.store.get(), /*stop=*/nullptr);
  // A failed hook fails the run too, so a timer or cron notices; the file
  // itself stays ingested and the hook runs again next run.
  return !pass.status.ok() || pass.stats.failed > 0 || pass.stats.hooks_failed > 0 ||
                 pass.metrics_failed
             ? kExitFailed
             : kExitOk;
}

int WatchCommand(const Options& o) {
  if (o.dry_run) {
    std::fprintf(stderr,
                 "atomic-ingest: --dry-run cannot be used with watch; try 'atomic-ingest run "
                 "--dry-run'\n");
    return kExitUsage;
  }
  // Before the state opens: LevelDB's thread must inherit the blocked mask.
  SignalFd signals;
  Status s = SignalFd::Open({SIGTERM, SIGINT, SIGHUP}, &signals);
  LockedState state;
  if (s.ok()) s = OpenLockedState(o, &state);
  if (s.IsBusy()) {
    // The watch holds the lock for its whole life, so a cron'd run beside
    // it exits 75 quietly; the other way round is worth a word.
    spdlog::error("{}", s.ToString());
    return kExitLocked;
  }
  if (s.ok()) {
    s = Watch(o, &signals, [&](const std::atomic<bool>& stop) {
      const PassOutcome pass = RunOnePass(o, state.store.get(), &stop);
      return WatchPassResult{!pass.status.ok(), pass.stats.cut_short, pass.stats.next_ready_ns};
    });
  }
  if (!s.ok()) {
    spdlog::error("watch: {}", s.ToString());
    return kExitFailed;
  }
  return kExitOk;
}

int RebuildStateCommand(const Options& o) {
  File state_dir;
  Status s = LockState(o, /*read_only=*/false, &state_dir);
  if (s.IsBusy()) {
    spdlog::error("{}", s.ToString());
    return kExitLocked;
  }
  RebuildStats stats;
  if (s.ok()) s = RebuildState(o, Env::Default(), Clock::Real()->NowNs(), &stats);
  if (!s.ok()) {
    spdlog::error("rebuild-state: {}", s.ToString());
    return kExitFailed;
  }
  spdlog::info(
      "rebuild-state: {} records from {} manifests ({} lines ignored, {} repeated contents)",
      stats.records, stats.manifests, stats.skipped, stats.repeats);
  return kExitOk;
}

int VerifyCommand(const Options& o) {
  VerifyOptions vo{o.manifests, o.warehouse, o.since, o.until};
  VerifyStats st;
  Status s = Verify(Env::Default(), vo, &st);
  if (!s.ok()) {
    spdlog::error("verify: {}", s.ToString());
    return kExitFailed;
  }
  const uint64_t problems = st.missing + st.corrupted + st.unlisted + st.bad_lines;
  std::printf(
      "verified %llu records: %llu ok, %llu missing, %llu corrupted, %llu unlisted, "
      "%llu bad manifest lines\n",
      static_cast<unsigned long long>(st.records), static_cast<unsigned long long>(st.ok),
      static_cast<unsigned long long>(st.missing), static_cast<unsigned long long>(st.corrupted),
      static_cast<unsigned long long>(st.unlisted), static_cast<unsigned long long>(st.bad_lines));
  return problems == 0 ? kExitOk : kExitFailed;
}

// Opens the state for reading, without its lock, so that it works while a
// pass or `watch` holds it: a private copy (state_store.h), or an empty
// store when there is no database yet (*exists false).
Status OpenStateForReading(const Options& o, std::unique_ptr<StateStore>* state, bool* exists) {
  Status s = OpenLevelDbSnapshot(JoinPath(o.state_path, kStateDbName), state);
  *exists = s.ok();
  if (s.IsNotFound()) {
    *state = std::make_unique<MemStateStore>();
    return Status::OK();
  }
  return s;
}

void Print(const std::string& text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int StatusCommand(const Options& o) {
  std::unique_ptr<StateStore> state;
  bool exists = false;
  Status s = OpenStateForReading(o, &state, &exists);
  StatusReport report;
  if (s.ok()) {
    s = GatherStatus(o, Env::Default(), Clock::Real(), state.get(),
                     JoinPath(o.state_path, kStateDbName), exists, &report);
  }
  if (!s.ok()) {
    spdlog::error("status: {}", s.ToString());
    return kExitFailed;
  }
  Print(o.json ? StatusJson(report) : StatusText(report));
  return kExitOk;
}

int ExplainCommand(const Options& o) {
  std::unique_ptr<StateStore> state;
  bool exists = false;
  Status s = OpenStateForReading(o, &state, &exists);
  std::string text;
  bool known = false;
  if (s.ok()) s = Explain(o, Env::Default(), Clock::Real(), state.get(), &text, &known);
  Print(text);
  if (!s.ok()) {
    spdlog::error("explain: {}", s.ToString());
    return kExitFailed;
  }
  return known ? kExitOk : kExitFailed;
}

const Command kCommands[] = {
    {"run", "one ingest pass over --input (the default)", kNeedAllRoots, RunPass},
    {"watch",
     "stay resident: a pass when --input changes, when a waiting file becomes stable, and "
     "every --interval seconds",
     kNeedAllRoots, WatchCommand},
    {"rebuild-state", "rebuild the content index in --state-path from --manifests",
     kNeedManifests | kNeedState, RebuildStateCommand},
    {"verify",
     "re-hash the warehouse files the manifests list (--since/--until); report missing, "
     "corrupted and unlisted files",
     kNeedManifests | kNeedWarehouse, VerifyCommand},
    {"status",
     "files in --input by why they wait, or ready; the last pass; the state's size "
     "(--json, --limit; needs no lock)",
     kNeedInput | kNeedState, StatusCommand},
    {"explain", "explain PATH: why that file was or was not ingested, or where it went",
     kNeedInput | kNeedManifests | kNeedState | kNeedPath, ExplainCommand},
};

void PrintHelp() {
  std::printf(
      "Usage: atomic-ingest [COMMAND] [FLAGS]\n"
      "       atomic-ingest explain PATH [FLAGS]\n\n"
      "Moves complete files from a staging directory into a date-partitioned\n"
      "warehouse, exactly once, with a JSON Lines manifest record for each.\n\n"
      "Commands:\n");
  for (const Command& c : kCommands) std::printf("  %-15s %s\n", c.name, c.description);
  std::printf("\n%s\n", FlagsHelp().c_str());
  std::printf(
      "Exit codes:\n"
      "  0   the pass is done (also when there was nothing to do);\n"
      "      watch: stopped by SIGTERM or SIGINT\n"
      "  1   some files failed; they stay in staging and are retried next run\n"
      "      or an --exec hook failed (it runs again next run);\n"
      "      verify: a problem was found; watch: --input went away;\n"
      "      status: staging or the state cannot be read;\n"
      "      explain: PATH is unknown, or cannot be read\n"
      "  2   usage or configuration error\n"
      "  75  another run holds the lock on --state-path\n");
}

int Main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena, and each arena
  // keeps its own high-water mark: with the workers, the committer and the
  // finisher that is a megabyte or more of a small pass's memory. Two
  // arenas measured no slower; per-thread caches take most allocations.
  // A fixed mmap threshold keeps each batch's large buffers (its vectors,
  // the journal frame) out of the arenas, so that freeing them gives the
  // memory back; the default threshold rises to the largest such buffer
  // freed. Together about 2 MiB of a 10,000-file ingest.
  (void)mallopt(M_ARENA_MAX, 2);
  (void)mallopt(M_MMAP_THRESHOLD, 128 << 10);
  std::vector<std::string> args(argv + 1, argv + argc);
  const Command* command = &kCommands[0];
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    command = nullptr;
    for (const Command& c : kCommands) {
      if (args[0] == c.name) command = &c;
    }
    if (command == nullptr) {
      std::fprintf(stderr, "atomic-ingest: unknown command '%s' (see --help)\n", args[0].c_str());
      return kExitUsage;
    }
    args.erase(args.begin());
  }
  CommandLine cl;
  std::string err;
  if (!ParseCommandLine(args, command->roots, &cl, &err)) {
    std::fprintf(stderr, "atomic-ingest: %s\n", err.c_str());
    return kExitUsage;
  }
  if (cl.help) {
    PrintHelp();
    return kExitOk;
  }
  if (cl.version) {
    std::printf("atomic-ingest %s\n", kVersion);
    return kExitOk;
  }
  Status s = SetUpLogging(cl.options.log_level, cl.options.log_format, cl.options.log_file);
  if (!s.ok()) {
    std::fprintf(stderr, "atomic-ingest: --log-file: %s\n", s.ToString().c_str());
    return kExitUsage;
  }
  return command->run(cl.options);
}

}  // namespace
}  // namespace ingest

int main(int argc, char** argv) { return ingest::Main(argc, argv); }
