#include "flags.h"

#include <type_traits>

namespace ingest {

namespace {

constexpr int64_t kSevenDays = 7 * 24 * 3600;
constexpr int64_t kOneDay = 24 * 3600;

std::vector<Flag> MakeTable() {
  using G = FlagGroup;
  using C = FlagCheck;
  // clang-format off
  return {
      {.name = "input", .value_name = "DIR", .group = G::kPaths, .field = &Options::input,
       .help = "staging directory to ingest from", .check = C::kRoot},
      {.name = "warehouse", .value_name = "DIR", .group = G::kPaths, .field = &Options::warehouse,
       .help = "warehouse root; files land in ingest_date=YYYY-MM-DD/", .check = C::kRoot},
      {.name = "manifests", .value_name = "DIR", .group = G::kPaths, .field = &Options::manifests,
       .help = "manifest root; records go to YYYY/MM/DD/HH/manifest.jsonl", .check = C::kRoot},
      {.name = "state-path", .value_name = "DIR", .group = G::kPaths, .field = &Options::state_path,
       .help = "state directory (LevelDB and the run lock)", .check = C::kRoot},
      {.name = "mode", .value_name = "MODE", .field = &Options::mode,
       .help = "how a file is judged complete", .choices = {"stability", "sidecar"}},
      {.name = "stability-seconds", .value_name = "N", .field = &Options::stability_seconds,
       .help = "seconds a file must stay unchanged (stability mode)", .max = kSevenDays},
      {.name = "on-duplicate", .value_name = "ACTION", .field = &Options::on_duplicate,
       .help = "what to do with content already ingested",
       .choices = {"quarantine", "delete", "keep"}},
      {.name = "concurrency", .value_name = "N", .field = &Options::concurrency,
       .help = "files hashed and moved in parallel", .min = 1, .max = 256},
      {.name = "batch-size", .value_name = "N", .field = &Options::batch_size,
       .help = "files per durable commit", .min = 1, .max = 100000},
      {.name = "dry-run", .field = &Options::dry_run,
       .help = "print what would happen; change nothing"},
      {.name = "recursive", .field = &Options::recursive,
       .help = "also ingest from subdirectories of --input (same mount, never through a symlink)"},
      {.name = "shard", .value_name = "K/N",
       .help = "take only the files of shard K of N (0 <= K < N <= 1024), by the SHA-256 of "
               "their name below --input; each shard has its own --state-path",
       .check = C::kShard},
      {.name = "min-size", .value_name = "BYTES", .field = &Options::min_size,
       .help = "never ingest files smaller than this; they stay in staging (0: every file)"},
      {.name = "max-files", .value_name = "N", .field = &Options::max_files,
       .help = "stop after this many complete files; the next run resumes the listing there "
               "(0: no limit)"},
      {.name = "max-seconds", .value_name = "N", .field = &Options::max_seconds,
       .help = "stop listing after this many seconds; the next run resumes there (0: no limit)",
       .max = kSevenDays},
      {.name = "exec", .value_name = "CMD", .group = G::kHooks,
       .help = "run CMD (no shell; quotes group words) once per ingested file, the manifest line "
               "on stdin",
       .check = C::kCommand},
      {.name = "exec-timeout", .value_name = "N", .group = G::kHooks,
       .field = &Options::exec_timeout_seconds,
       .help = "seconds before a hook is terminated and counted as failed", .min = 1,
       .max = kOneDay},
      {.name = "log-level", .value_name = "LEVEL", .group = G::kLogging,
       .field = &Options::log_level,
       .choices = {"trace", "debug", "info", "warn", "error"}},
      {.name = "interval", .value_name = "SECONDS", .field = &Options::interval_seconds,
       .help = "watch: seconds between full passes when nothing else starts one", .min = 1,
       .max = kSevenDays},
      {.name = "log-file", .value_name = "PATH", .group = G::kLogging,
       .field = &Options::log_file,
       .help = "also append the log to this file; SIGHUP reopens it (logrotate)",
       .check = C::kLogFile},
      {.name = "metrics-file", .value_name = "PATH", .group = G::kLogging,
       .field = &Options::metrics_file,
       .help = "write Prometheus textfile-collector metrics here after each pass",
       .check = C::kMetricsFile},
      {.name = "since", .value_name = "YYYY-MM-DD", .group = G::kVerify, .config_key = false,
       .field = &Options::since,
       .help = "verify: first ingest date to check; history: first date, or UTC time "
               "YYYY-MM-DDTHH:MM[:SS]Z, to list (default: today)",
       .check = C::kDate},
      {.name = "until", .value_name = "YYYY-MM-DD", .group = G::kVerify, .config_key = false,
       .field = &Options::until,
       .help = "verify: last ingest date to check; history: last date, or UTC time, to list",
       .check = C::kDate},
      {.name = "format", .value_name = "FORMAT", .group = G::kVerify, .config_key = false,
       .field = &Options::format,
       .help = "history: a line per file and a summary, or the manifest records as they are",
       .choices = {"text", "json"}},
      {.name = "json", .group = G::kReport, .config_key = false, .field = &Options::json,
       .help = "status: print one JSON document instead of text"},
      {.name = "limit", .value_name = "N", .group = G::kReport, .config_key = false,
       .field = &Options::limit,
       .help = "status: files listed per group; explain: records listed (0: all)"},
      {.name = "reason", .value_name = "TEXT", .group = G::kReport, .config_key = false,
       .field = &Options::reason, .help = "forget: why, kept in the record of it"},
      {.name = "path", .value_name = "PATH", .group = G::kHidden, .config_key = false,
       .field = &Options::path, .help = "explain, forget: the file (or, for forget, a sha256)",
       .check = C::kOperand},
      {.name = "log-format", .value_name = "FORMAT", .group = G::kLogging,
       .field = &Options::log_format,
       .help = "json writes one JSON object per line, with the data of each record as members",
       .choices = {"text", "json"}},
      {.name = "config", .value_name = "FILE", .group = G::kGeneral, .config_key = false,
       .help = "read flags from FILE (key = value; the command line wins)"},
      {.name = "help", .short_name = 'h', .group = G::kGeneral, .config_key = false,
       .help = "show this help"},
      {.name = "version", .group = G::kGeneral, .config_key = false,
       .help = "show the version"},
  };
  // clang-format on
}

}  // namespace

const std::vector<Flag>& FlagTable() {
  static const std::vector<Flag> table = MakeTable();
  return table;
}

const Flag* FindFlag(std::string_view name) {
  for (const Flag& f : FlagTable()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string FlagDefault(const Flag& flag) {
  static const Options defaults;
  return std::visit(
      [&](auto field) -> std::string {
        using T = decltype(field);
        if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, bool Options::*>) {
          return "";
        } else if constexpr (std::is_same_v<T, std::string Options::*>) {
          return defaults.*field;
        } else if constexpr (std::is_same_v<T, int Options::*> ||
                             std::is_same_v<T, int64_t Options::*>) {
          return std::to_string(defaults.*field);
        } else {
          return flag.choices.at(static_cast<size_t>(defaults.*field));
        }
      },
      flag.field);
}

std::string FlagHelp(const Flag& flag) {
  std::string text;
  for (const char* c : flag.choices) {
    if (!text.empty()) text += "|";
    text += c;
  }
  if (!text.empty() && *flag.help != '\0') text += ": ";
  text += flag.help;
  if (flag.max != kNoMax) {
    text += "; " + std::to_string(flag.min) + " to " + std::to_string(flag.max);
  }
  return text;
}

const char* FlagGroupTitle(FlagGroup group) {
  switch (group) {
    case FlagGroup::kPaths:
      return "Paths";
    case FlagGroup::kBehaviour:
      return "Behaviour";
    case FlagGroup::kHooks:
      return "Hooks";
    case FlagGroup::kLogging:
      return "Logging";
    case FlagGroup::kVerify:
      return "verify and history";
    case FlagGroup::kReport:
      return "status and explain";
    case FlagGroup::kGeneral:
      return "General";
    case FlagGroup::kHidden:
      break;
  }
  return "";
}

}  // namespace ingest
