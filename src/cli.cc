#include "cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/make_shared.hpp>
#include <boost/program_options.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>
#include <variant>

#include "clock.h"
#include "env.h"
#include "flags.h"
#include "fs_util.h"
#include "sha256.h"
#include "split_command.h"

namespace ingest {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

// Boost's view of the flag table.
struct Descriptions {
  po::options_description all;        // what --help lists, by group
  po::options_description accepted;   // `all` and explain's PATH
  po::options_description in_config;  // what a --config file may set
  po::positional_options_description positional;

  Descriptions() {
    // Indexed by FlagGroup, kHidden excluded.
    std::vector<po::options_description> groups;
    for (size_t g = 0; g < static_cast<size_t>(FlagGroup::kHidden); ++g) {
      groups.emplace_back(FlagGroupTitle(static_cast<FlagGroup>(g)));
    }
    po::options_description hidden;
    for (const Flag& f : FlagTable()) {
      std::string names = f.name;
      if (f.short_name != 0) names += std::string(",") + f.short_name;
      const std::string help = FlagHelp(f);
      auto option =
          boost::make_shared<po::option_description>(names.c_str(), Semantic(f), help.c_str());
      if (f.group == FlagGroup::kHidden) {
        hidden.add(option);
      } else {
        groups[static_cast<size_t>(f.group)].add(option);
      }
      if (f.config_key) in_config.add(option);
      if (f.check == FlagCheck::kOperand) positional.add(f.name, -1);
    }
    for (const po::options_description& g : groups) all.add(g);
    accepted.add(all).add(hidden);
  }

  // How Boost reads the flag's value: its type from the Options member, its
  // default from Options{}.
  static const po::value_semantic* Semantic(const Flag& f) {
    if (f.check == FlagCheck::kOperand) return po::value<std::vector<std::string>>();
    if (f.value_name == nullptr) return po::bool_switch();
    if (auto field = std::get_if<int Options::*>(&f.field)) {
      return po::value<int>()->default_value(Options{}.**field)->value_name(f.value_name);
    }
    if (auto field = std::get_if<int64_t Options::*>(&f.field)) {
      return po::value<int64_t>()->default_value(Options{}.**field)->value_name(f.value_name);
    }
    auto* value = po::value<std::string>()->value_name(f.value_name);
    const std::string def = FlagDefault(f);
    if (!def.empty()) value->default_value(def);
    return value;
  }
};

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

bool CheckDirectory(const std::string& flag, const std::string& path, bool must_exist,
                    std::string* err) {
  FileStat st;
  Status s = Env::Default()->StatPath(path, /*follow=*/true, &st);
  if (!s.ok()) {
    if (!must_exist && s.IsNotFound()) return true;
    *err = "--" + flag + " " + path + ": " + std::strerror(s.err());
    return false;
  }
  if (!st.IsDirectory()) {
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
  FileStat st;
  if (Env::Default()->StatPath(*out, /*follow=*/false, &st).ok() && !st.IsRegular()) {
    *err = "--log-file " + *out +
           (S_ISDIR(st.mode)   ? " is a directory"
            : S_ISLNK(st.mode) ? " is a symlink; name the file itself"
                               : " is not a regular file");
    return false;
  }
  for (const auto& [flag, root] : roots) {
    if (flag != "state-path" && IsInside(*out, *root)) {
      *err = "--log-file " + *out + " is inside --" + flag + " " + *root;
      return false;
    }
  }
  return true;
}

// The flag's value from `vm` into its Options member, within its range or
// choices. The one place those are checked.
bool SetValue(const Flag& f, const po::variables_map& vm, Options* o, std::string* err) {
  const std::string flag = std::string("--") + f.name;
  return std::visit(
      [&](auto field) {
        using T = decltype(field);
        if constexpr (std::is_same_v<T, std::monostate>) {
          return true;
        } else if constexpr (std::is_same_v<T, bool Options::*>) {
          o->*field = vm[f.name].as<bool>();
          return true;
        } else if constexpr (std::is_same_v<T, int Options::*> ||
                             std::is_same_v<T, int64_t Options::*>) {
          const auto v = vm[f.name].as<std::remove_reference_t<decltype(o->*field)>>();
          if (v < f.min || v > f.max) {
            *err = flag + " must be " +
                   (f.max == kNoMax
                        ? std::to_string(f.min) + " or more"
                        : "between " + std::to_string(f.min) + " and " + std::to_string(f.max)) +
                   ", not " + std::to_string(v);
            return false;
          }
          o->*field = v;
          return true;
        } else {  // a string or an enum
          if (!vm.count(f.name)) return true;
          const std::string v = vm[f.name].as<std::string>();
          const size_t n = f.choices.size();
          size_t i = 0;
          while (i < n && v != f.choices[i]) ++i;
          if (n > 0 && i == n) {
            *err = flag + " must be ";
            for (size_t j = 0; j < n; ++j) {
              *err += std::string(j == 0 ? "" : j + 1 < n ? ", " : " or ") + f.choices[j];
            }
            *err += ", not '" + v + "'";
            return false;
          }
          if constexpr (std::is_same_v<T, std::string Options::*>) {
            o->*field = v;
          } else {
            o->*field = static_cast<std::remove_reference_t<decltype(o->*field)>>(i);
          }
          return true;
        }
      },
      f.field);
}

// The four roots: each required one is given, each is a directory (only
// --input must exist), and no two are the same or one inside another. In
// this order, which decides which of two roots an error names first.
bool CheckRoots(const po::variables_map& vm, unsigned required, Options* o,
                std::vector<std::pair<std::string, std::string*>>* roots, std::string* err) {
  struct Root {
    const char* flag;
    unsigned need;
    std::string* dest;
  };
  const Root all_roots[] = {{"input", kNeedInput, &o->input},
                            {"warehouse", kNeedWarehouse, &o->warehouse},
                            {"state-path", kNeedState, &o->state_path},
                            {"manifests", kNeedManifests, &o->manifests}};
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
    roots->emplace_back(flag, r.dest);
  }
  for (size_t i = 0; i < roots->size(); ++i) {
    for (size_t j = 0; j < roots->size(); ++j) {
      const auto& [fa, a] = (*roots)[i];
      const auto& [fb, b] = (*roots)[j];
      if (i < j && *a == *b) {
        *err = "--" + fa + " and --" + fb + " are the same directory (" + *a + ")";
        return false;
      }
      if (i != j && IsInside(*a, *b)) {
        *err = "--" + fa + " " + *a + " is inside --" + fb + " " + *b;
        return false;
      }
    }
  }
  return true;
}

// The value of a string flag, or nullptr if it is not given or empty (as in
// a config file's "exec =").
const std::string* NonEmpty(const po::variables_map& vm, const char* flag) {
  if (!vm.count(flag)) return nullptr;
  const std::string& v = vm[flag].as<std::string>();
  return v.empty() ? nullptr : &v;
}

// A date, or a UTC time, which only history takes (verify refuses it):
// the parser does not know the command.
bool CheckDate(const char* flag, const po::variables_map& vm, std::string* dest, std::string* err) {
  if (!vm.count(flag)) return true;
  *dest = vm[flag].as<std::string>();
  int64_t ns = 0;
  if (!ParseUtcTime(*dest, /*end_of_day=*/false, &ns)) {
    *err = std::string("--") + flag +
           " must be a date YYYY-MM-DD or a UTC time YYYY-MM-DDTHH:MM[:SS]Z, not '" + *dest + "'";
    return false;
  }
  return true;
}

bool CheckOperand(const po::variables_map& vm, unsigned required, std::string* dest,
                  std::string* err) {
  const std::vector<std::string> operands =
      vm.count("path") ? vm["path"].as<std::vector<std::string>>() : std::vector<std::string>();
  if (!(required & (kNeedPath | kNeedTarget))) {
    if (operands.empty()) return true;
    *err = "unexpected argument '" + operands[0] +
           "' (only explain takes a PATH, and forget a PATH or a sha256)";
    return false;
  }
  const bool path = required & kNeedPath;
  if (operands.size() != 1 || operands[0].empty()) {
    *err = !operands.empty()
               ? std::string(path ? "explain takes one PATH" : "forget takes one PATH or sha256") +
                     ", not " + std::to_string(operands.size())
           : path ? "explain needs a PATH"
                  : "forget needs a PATH or a sha256";
    return false;
  }
  // A sha256 stays as it is; a path is made absolute, so the two never
  // look alike (a file named like a sha256 is given as ./NAME).
  *dest = (required & kNeedTarget) && IsSha256Hex(operands[0]) ? operands[0]
                                                               : NormalizeOperand(operands[0]);
  return true;
}

}  // namespace

std::string FlagsHelp() {
  std::ostringstream out;
  out << Descriptions().all;
  return out.str();
}

bool ParseCommandLine(const std::vector<std::string>& args, unsigned required, CommandLine* out,
                      std::string* err) {
  const Descriptions flags;
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
  std::vector<std::pair<std::string, std::string*>> roots;
  if (!CheckRoots(vm, required, &o, &roots, err)) return false;
  for (const Flag& f : FlagTable()) {
    bool ok = true;
    switch (f.check) {
      case FlagCheck::kNone:
        ok = SetValue(f, vm, &o, err);
        break;
      case FlagCheck::kRoot:
        break;  // CheckRoots
      case FlagCheck::kCommand:
        if (const std::string* cmd = NonEmpty(vm, f.name)) {
          std::string why;
          ok = SplitCommand(*cmd, &o.exec_argv, &why);
          if (!ok) *err = "--" + std::string(f.name) + " '" + *cmd + "': " + why;
        }
        break;
      case FlagCheck::kLogFile:
        if (const std::string* given = NonEmpty(vm, f.name)) {
          ok = CheckLogFile(*given, roots, &o.log_file, err);
        }
        break;
      case FlagCheck::kMetricsFile:
        if (const std::string* given = NonEmpty(vm, f.name)) {
          o.metrics_file = Normalize(*given);
          const std::string parent = fs::path(o.metrics_file).parent_path().string();
          ok = CheckDirectory(f.name, parent, /*must_exist=*/true, err);
        }
        break;
      case FlagCheck::kDate:
        ok = CheckDate(f.name, vm, &(o.*std::get<std::string Options::*>(f.field)), err);
        break;
      case FlagCheck::kOperand:
        ok = CheckOperand(vm, required, &o.path, err);
        break;
      case FlagCheck::kShard:
        if (const std::string* given = NonEmpty(vm, f.name)) {
          std::string why;
          ok = ParseShard(*given, &o.shard, &why);
          if (!ok) *err = "--" + std::string(f.name) + " '" + *given + "': " + why;
        }
        break;
    }
    if (!ok) return false;
  }
  o.progress_tty = ::isatty(STDERR_FILENO) == 1;
  return true;
}

}  // namespace ingest
