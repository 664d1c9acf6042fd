#include "cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fs_util.h"
#include "split_command.h"

namespace ingest {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kMaxStabilitySeconds = 7 * 24 * 3600;
constexpr int kMaxConcurrency = 256;
constexpr int kMaxBatchSize = 100000;
constexpr int64_t kMaxExecTimeout = 24 * 3600;

struct Flags {
  po::options_description paths{"Paths"};
  po::options_description behaviour{"Behaviour"};
  po::options_description hooks{"Hooks"};
  po::options_description logging{"Logging"};
  po::options_description verify{"verify"};
  po::options_description report{"status and explain"};
  po::options_description general{"General"};
  po::options_description operand;  // explain's PATH, not listed
  po::options_description all;
  po::options_description accepted;  // `all` and the operand
  po::positional_options_description positional;
  po::options_description in_config;  // what a --config file may set

  // clang-format off
  Flags() {
    paths.add_options()
        ("input", po::value<std::string>(), "staging directory to ingest from")
        ("warehouse", po::value<std::string>(), "warehouse root; files land in ingest_date=YYYY-MM-DD/")
        ("manifests", po::value<std::string>(), "manifest root; records go to YYYY/MM/DD/HH/manifest.jsonl")
        ("state-path", po::value<std::string>(), "state directory (LevelDB and the run lock)");
    behaviour.add_options()
        ("mode", po::value<std::string>()->default_value("stability"), "stability|sidecar: how a file is judged complete")
        ("stability-seconds", po::value<int64_t>()->default_value(30), "seconds a file must stay unchanged (stability mode)")
        ("on-duplicate", po::value<std::string>()->default_value("quarantine"), "quarantine|delete|keep: what to do with content already ingested")
        ("concurrency", po::value<int>()->default_value(2), "files hashed and moved in parallel")
        ("batch-size", po::value<int>()->default_value(1000), "files per durable commit")
        ("dry-run", po::bool_switch(), "print what would happen; change nothing")
        ("recursive", po::bool_switch(), "also ingest from subdirectories of --input (same mount, never through a symlink)")
        ("max-files", po::value<int64_t>()->default_value(0), "stop after this many complete files; the next run resumes the listing there (0: no limit)")
        ("max-seconds", po::value<int64_t>()->default_value(0), "stop listing after this many seconds; the next run resumes there (0: no limit)")
        ("interval", po::value<int64_t>()->default_value(300), "watch: seconds between full passes when nothing else starts one");
    hooks.add_options()
        ("exec", po::value<std::string>(), "run CMD (no shell; quotes group words) once per ingested file, the manifest line on stdin")
        ("exec-timeout", po::value<int64_t>()->default_value(300), "seconds before a hook is terminated and counted as failed");
    logging.add_options()
        ("log-level", po::value<std::string>()->default_value("info"), "trace|debug|info|warn|error")
        ("log-format", po::value<std::string>()->default_value("text"), "text|json (one JSON object per line)")
        ("log-file", po::value<std::string>(), "also append the log to this file; SIGHUP reopens it (logrotate)")
        ("metrics-file", po::value<std::string>(), "write Prometheus textfile-collector metrics here after each pass");
    verify.add_options()
        ("since", po::value<std::string>(), "verify: first ingest date to check (YYYY-MM-DD)")
        ("until", po::value<std::string>(), "verify: last ingest date to check (YYYY-MM-DD)");
    report.add_options()
        ("json", po::bool_switch(), "status: print one JSON document instead of text")
        ("limit", po::value<int64_t>()->default_value(20), "status: files listed per group; explain: records listed (0: all)");
    operand.add_options()
        ("path", po::value<std::vector<std::string>>(), "explain: the file to explain");
    positional.add("path", -1);
    general.add_options()
        ("config", po::value<std::string>(), "read flags from FILE (key = value; the command line wins)")
        ("help,h", po::bool_switch(), "show this help")
        ("version", po::bool_switch(), "show the version");
    all.add(paths).add(behaviour).add(hooks).add(logging).add(verify).add(report).add(general);
    accepted.add(all).add(operand);
    in_config.add(paths).add(behaviour).add(hooks).add(logging);
  }
  // clang-format on
};

bool OneOf(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (v == a) return true;
  }
  return false;
}

// Absolute, lexically normal, with symlinks in the existing part resolved,
// so that two spellings of one directory compare equal.
std::string Normalize(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path).lexically_normal();
  std::string out = p.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// Like Normalize, but the last component is kept as it is, so that a
// symlink names itself and not its target.
std::string NormalizeOperand(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec).lexically_normal();
  if (ec) return path;
  std::string name = p.filename().string();
  if (name.empty()) return Normalize(p.string());  // "/" or a trailing slash
  return JoinPath(Normalize(p.parent_path().string()), name);
}

bool Inside(const std::string& inner, const std::string& outer) {
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         (outer == "/" || inner[outer.size()] == '/');
}

bool CheckDirectory(const std::string& flag, const std::string& path, bool must_exist,
                    std::string* err) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (!must_exist && errno == ENOENT) return true;
    *err = "--" + flag + " " + path + ": " + std::strerror(errno);
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *err = "--" + flag + " " + path + " is not a directory";
    return false;
  }
  return true;
}

// --log-file: a file name in an existing directory, outside --input (it
// would be ingested), --warehouse and --manifests; the state directory may
// hold it.
// Only the directory is normalized: the file itself, if it exists, must be
// a regular file, not a symlink (the log is reopened by name, never
// through a link).
bool CheckLogFile(const std::string& given,
                  const std::vector<std::pair<std::string, std::string*>>& roots, std::string* out,
                  std::string* err) {
  const fs::path p(given);
  const std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..") {
    *err = "--log-file " + given + " names a directory, not a file";
    return false;
  }
  const std::string parent = Normalize(p.has_parent_path() ? p.parent_path().string() : ".");
  if (!CheckDirectory("log-file", parent, /*must_exist=*/true, err)) return false;
  *out = parent == "/" ? "/" + name : parent + "/" + name;
  struct stat st;
  if (::lstat(out->c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    *err = "--log-file " + *out +
           (S_ISDIR(st.st_mode)   ? " is a directory"
            : S_ISLNK(st.st_mode) ? " is a symlink; name the file itself"
                                  : " is not a regular file");
    return false;
  }
  for (const auto& [flag, root] : roots) {
    if (flag != "state-path" && Inside(*out, *root)) {
      *err = "--log-file " + *out + " is inside --" + flag + " " + *root;
      return false;
    }
  }
  return true;
}

}  // namespace

std::string FlagsHelp() {
  Flags flags;
  std::ostringstream out;
  out << flags.all;
  return out.str();
}

bool ParseCommandLine(const std::vector<std::string>& args, unsigned required, CommandLine* out,
                      std::string* err) {
  Flags flags;
  po::variables_map vm;
  try {
    po::store(
        po::command_line_parser(args).options(flags.accepted).positional(flags.positional).run(),
        vm);
    if (vm.count("config")) {
      // Stored after the command line, so the command line wins.
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) {
        *err = "--config " + path + ": " + std::strerror(errno);
        return false;
      }
      try {
        po::store(po::parse_config_file(in, flags.in_config), vm);
      } catch (const po::error& e) {
        *err = "--config " + path + ": " + e.what();
        return false;
      }
    }
    po::notify(vm);
  } catch (const po::error& e) {
    *err = e.what();
    return false;
  }
  out->help = vm["help"].as<bool>();
  out->version = vm["version"].as<bool>();
  if (out->help || out->version) return true;

  Options& o = out->options;
  struct Root {
    const char* flag;
    unsigned need;
    std::string* dest;
  };
  const Root all_roots[] = {{"input", kNeedInput, &o.input},
                            {"warehouse", kNeedWarehouse, &o.warehouse},
                            {"state-path", kNeedState, &o.state_path},
                            {"manifests", kNeedManifests, &o.manifests}};
  std::vector<std::pair<std::string, std::string*>> roots;
  for (const Root& r : all_roots) {
    const std::string flag = r.flag;
    const bool given = vm.count(flag) && !vm[flag].as<std::string>().empty();
    if (!given) {
      if (required & r.need) {
        *err = "--" + flag + " is required";
        return false;
      }
      continue;
    }
    *r.dest = Normalize(vm[flag].as<std::string>());
    if (!CheckDirectory(flag, *r.dest, flag == "input", err)) return false;
    roots.emplace_back(flag, r.dest);
  }
  for (size_t i = 0; i < roots.size(); ++i) {
    for (size_t j = 0; j < roots.size(); ++j) {
      const auto& [fa, a] = roots[i];
      const auto& [fb, b] = roots[j];
      if (i < j && *a == *b) {
        *err = "--" + fa + " and --" + fb + " are the same directory (" + *a + ")";
        return false;
      }
      if (i != j && Inside(*a, *b)) {
        *err = "--" + fa + " " + *a + " is inside --" + fb + " " + *b;
        return false;
      }
    }
  }

  const std::string mode = vm["mode"].as<std::string>();
  if (!OneOf(mode, {"stability", "sidecar"})) {
    *err = "--mode must be stability or sidecar, not '" + mode + "'";
    return false;
  }
  o.mode = mode == "sidecar" ? Mode::kSidecar : Mode::kStability;
  o.stability_seconds = vm["stability-seconds"].as<int64_t>();
  if (o.stability_seconds < 0 || o.stability_seconds > kMaxStabilitySeconds) {
    *err = "--stability-seconds must be between 0 and " + std::to_string(kMaxStabilitySeconds) +
           ", not " + std::to_string(o.stability_seconds);
    return false;
  }
  const std::string dup = vm["on-duplicate"].as<std::string>();
  if (!OneOf(dup, {"quarantine", "delete", "keep"})) {
    *err = "--on-duplicate must be quarantine, delete or keep, not '" + dup + "'";
    return false;
  }
  o.on_duplicate = dup == "delete" ? OnDuplicate::kDelete
                   : dup == "keep" ? OnDuplicate::kKeep
                                   : OnDuplicate::kQuarantine;
  o.concurrency = vm["concurrency"].as<int>();
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    *err = "--concurrency must be between 1 and " + std::to_string(kMaxConcurrency) + ", not " +
           std::to_string(o.concurrency);
    return false;
  }
  o.batch_size = vm["batch-size"].as<int>();
  if (o.batch_size < 1 || o.batch_size > kMaxBatchSize) {
    *err = "--batch-size must be between 1 and " + std::to_string(kMaxBatchSize) + ", not " +
           std::to_string(o.batch_size);
    return false;
  }
  o.dry_run = vm["dry-run"].as<bool>();
  o.recursive = vm["recursive"].as<bool>();
  o.max_files = vm["max-files"].as<int64_t>();
  if (o.max_files < 0) {
    *err = "--max-files must be 0 or more, not " + std::to_string(o.max_files);
    return false;
  }
  o.max_seconds = vm["max-seconds"].as<int64_t>();
  if (o.max_seconds < 0 || o.max_seconds > kMaxStabilitySeconds) {
    *err = "--max-seconds must be between 0 and " + std::to_string(kMaxStabilitySeconds) +
           ", not " + std::to_string(o.max_seconds);
    return false;
  }
  // An empty value, as in a config file's "exec =", means no hook.
  if (vm.count("exec") && !vm["exec"].as<std::string>().empty()) {
    const std::string cmd = vm["exec"].as<std::string>();
    std::string why;
    if (!SplitCommand(cmd, &o.exec_argv, &why)) {
      *err = "--exec '" + cmd + "': " + why;
      return false;
    }
  }
  o.exec_timeout_seconds = vm["exec-timeout"].as<int64_t>();
  if (o.exec_timeout_seconds < 1 || o.exec_timeout_seconds > kMaxExecTimeout) {
    *err = "--exec-timeout must be between 1 and " + std::to_string(kMaxExecTimeout) + ", not " +
           std::to_string(o.exec_timeout_seconds);
    return false;
  }
  o.log_level = vm["log-level"].as<std::string>();
  if (!OneOf(o.log_level, {"trace", "debug", "info", "warn", "error"})) {
    *err = "--log-level must be trace, debug, info, warn or error, not '" + o.log_level + "'";
    return false;
  }
  o.interval_seconds = vm["interval"].as<int64_t>();
  if (o.interval_seconds < 1 || o.interval_seconds > kMaxStabilitySeconds) {
    *err = "--interval must be between 1 and " + std::to_string(kMaxStabilitySeconds) + ", not " +
           std::to_string(o.interval_seconds);
    return false;
  }
  if (vm.count("log-file") && !vm["log-file"].as<std::string>().empty()) {
    if (!CheckLogFile(vm["log-file"].as<std::string>(), roots, &o.log_file, err)) return false;
  }
  if (vm.count("metrics-file") && !vm["metrics-file"].as<std::string>().empty()) {
    o.metrics_file = Normalize(vm["metrics-file"].as<std::string>());
    const std::string parent = fs::path(o.metrics_file).parent_path().string();
    if (!CheckDirectory("metrics-file", parent, /*must_exist=*/true, err)) return false;
  }
  for (auto [flag, dest] : {std::pair{"since", &o.since}, std::pair{"until", &o.until}}) {
    if (!vm.count(flag)) continue;
    *dest = vm[flag].as<std::string>();
    int y, m, d;
    char tail;
    if (dest->size() != 10 || std::sscanf(dest->c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
        m < 1 || m > 12 || d < 1 || d > 31) {
      *err = std::string("--") + flag + " must be a date YYYY-MM-DD, not '" + *dest + "'";
      return false;
    }
  }
  o.json = vm["json"].as<bool>();
  o.limit = vm["limit"].as<int64_t>();
  if (o.limit < 0) {
    *err = "--limit must be 0 or more, not " + std::to_string(o.limit);
    return false;
  }
  const std::vector<std::string> operands =
      vm.count("path") ? vm["path"].as<std::vector<std::string>>() : std::vector<std::string>();
  if (!(required & kNeedPath) && !operands.empty()) {
    *err = "unexpected argument '" + operands[0] + "' (only explain takes a PATH)";
    return false;
  }
  if (required & kNeedPath) {
    if (operands.size() != 1 || operands[0].empty()) {
      *err = operands.empty() ? "explain needs a PATH"
                              : "explain takes one PATH, not " + std::to_string(operands.size());
      return false;
    }
    o.path = NormalizeOperand(operands[0]);
  }
  o.progress_tty = ::isatty(STDERR_FILENO) == 1;
  o.log_format = vm["log-format"].as<std::string>();
  if (!OneOf(o.log_format, {"text", "json"})) {
    *err = "--log-format must be text or json, not '" + o.log_format + "'";
    return false;
  }
  return true;
}

}  // namespace ingest
