#include "commands.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "clock.h"
#include "env.h"
#include "explain.h"
#include "forget.h"
#include "fs_util.h"
#include "history.h"
#include "ingest_pass.h"
#include "logging.h"
#include "metrics.h"
#include "pass_summary.h"
#include "rebuild_state.h"
#include "records.h"
#include "signal_fd.h"
#include "state_open.h"
#include "status_report.h"
#include "verify.h"
#include "watch.h"

namespace ingest {

namespace {

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
  if (!out.status.ok()) {
    LogEvent(spdlog::level::err, "pass_stopped")
        .Str("error", out.status.ToString())
        .Log("pass stopped: {}", out.status.ToString());
  }
  LogEvent(spdlog::level::info, "summary").Members(summary).Log("summary {}", summary);
  if (o.dry_run) return out;
  // A report for status, not part of any commit: losing it loses no file,
  // and the summary was logged above.
  const std::string last_pass =
      LastPassJson(summary, Env::Default()->HostName(), o.shard.ToString());
  (void)state->Apply({{std::string(keys::kLastPass), last_pass}}, true);
  if (!o.metrics_file.empty()) {
    Status m = WriteMetricsFile(Env::Default(), state, o.metrics_file, o.shard.ToString(),
                                out.stats, out.status.ok(), seconds, clock->NowNs());
    if (!m.ok()) {
      spdlog::error("--metrics-file: {}", m.ToString());
      out.metrics_failed = true;
    }
  }
  return out;
}

int RunPass(const Options& o) {
  LockedState state;
  Status s = OpenLockedState(Env::Default(), o, &state);
  if (s.IsBusy()) {
    // Expected under cron when a long pass overlaps the next tick: quiet.
    spdlog::debug("{}", s.ToString());
    return kExitLocked;
  }
  if (!s.ok()) {
    spdlog::error("{}", s.ToString());
    return s.IsInvalidArgument() ? kExitUsage : kExitFailed;
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
  if (s.ok()) s = OpenLockedState(Env::Default(), o, &state);
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
    return s.IsInvalidArgument() ? kExitUsage : kExitFailed;
  }
  return kExitOk;
}

int RebuildStateCommand(const Options& o) {
  File state_dir;
  File lock;
  Status s = LockState(Env::Default(), o, /*read_only=*/false, &state_dir, &lock);
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
      "rebuild-state: {} records from {} manifests ({} lines ignored, {} repeated contents, {} "
      "forgotten)",
      stats.records, stats.manifests, stats.skipped, stats.repeats, stats.forgotten);
  return kExitOk;
}

int VerifyCommand(const Options& o) {
  // The flag check also takes the UTC times history takes; verify checks
  // whole ingest_date= partitions, so a time would promise what it cannot.
  for (const auto& [flag, value] : {std::pair{"since", &o.since}, std::pair{"until", &o.until}}) {
    if (value->find('T') != std::string::npos) {
      std::fprintf(stderr, "atomic-ingest: --%s must be a date YYYY-MM-DD for verify, not '%s'\n",
                   flag, value->c_str());
      return kExitUsage;
    }
  }
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
      "%llu bad manifest lines, %llu re-ingested after their file went missing\n",
      static_cast<unsigned long long>(st.records), static_cast<unsigned long long>(st.ok),
      static_cast<unsigned long long>(st.missing), static_cast<unsigned long long>(st.corrupted),
      static_cast<unsigned long long>(st.unlisted), static_cast<unsigned long long>(st.bad_lines),
      static_cast<unsigned long long>(st.reingested));
  return problems == 0 ? kExitOk : kExitFailed;
}

void Print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

int HistoryCommand(const Options& o) {
  const HistoryRange range = HistoryRangeOf(o.since, o.until, Clock::Real()->NowNs());
  if (!range.open_since && !range.open_until && range.until_ns < range.since_ns) {
    std::fprintf(stderr, "atomic-ingest: --until %s is before --since %s\n", o.until.c_str(),
                 o.since.c_str());
    return kExitUsage;
  }
  const bool json = o.format == "json";
  HistoryStats st;
  Status s = History(Env::Default(), o.manifests, range, json, Print, &st);
  if (!s.ok()) {
    spdlog::error("history: {}", s.ToString());
    return kExitFailed;
  }
  if (!json) Print(HistorySummary(st, range));
  return kExitOk;
}

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
    return s.IsInvalidArgument() ? kExitUsage : kExitFailed;
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
    return s.IsInvalidArgument() ? kExitUsage : kExitFailed;
  }
  return known ? kExitOk : kExitFailed;
}

int ForgetCommand(const Options& o) {
  LockedState state;
  Status s = OpenLockedState(Env::Default(), o, &state);
  if (s.IsBusy()) {
    spdlog::error("{}", s.ToString());
    return kExitLocked;
  }
  ForgetResult r;
  if (s.ok()) s = Forget(Env::Default(), Clock::Real(), o, state.dir, state.store.get(), &r);
  if (!s.ok()) {
    spdlog::error("forget: {}", s.ToString());
    return s.IsInvalidArgument() ? kExitUsage : kExitFailed;
  }
  std::string text = "forgot " + r.sha256;
  if (r.content) {
    text += ": ingested as " + r.content->path + " from " + r.content->source + " at " +
            UtcTime(r.content->ingested_at_ns).Rfc3339();
  }
  text +=
      "; its next delivery is ingested again. The warehouse file and its manifest record "
      "stay.\n";
  if (r.claim) {
    text += "released its claim in the warehouse";
    if (r.claim->owner != r.instance && !r.content) {
      text += " (taken by instance " + r.claim->owner +
              ", whose own state still knows the content: run forget with that instance's "
              "--state-path too for a delivery to its staging)";
    }
    text += "\n";
  }
  text += "recorded in " + JoinPath(o.manifests, std::string(kForgottenLogName)) + "\n";
  Print(text);
  return kExitOk;
}

}  // namespace

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
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
      {"history",
       "what the manifests say was ingested from --since to --until (default: today, UTC); "
       "--format text|json",
       kNeedManifests, HistoryCommand},
      {"status",
       "files in --input by why they wait, or ready; the last pass; the state's size "
       "(--json, --limit; needs no lock)",
       kNeedInput | kNeedState, StatusCommand},
      {"explain", "explain PATH: why that file was or was not ingested, or where it went",
       kNeedInput | kNeedManifests | kNeedState | kNeedPath, ExplainCommand},
      {"forget",
       "forget PATH|SHA256: its next delivery is ingested again; recorded with --reason in "
       "the manifest root (warehouse files stay)",
       kNeedWarehouse | kNeedManifests | kNeedState | kNeedTarget, ForgetCommand},
  };
  return commands;
}

}  // namespace ingest
