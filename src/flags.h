#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "options.h"

namespace ingest {

// Where --help lists a flag, in the order it lists the groups. kHidden,
// last, is explain's PATH operand, which Boost parses as an option but
// --help and the tests of the documentation skip.
enum class FlagGroup { kPaths, kBehaviour, kHooks, kLogging, kVerify, kReport, kGeneral, kHidden };

// A check that takes more than the flag's own type, range and choices;
// ParseCommandLine does it in code.
enum class FlagCheck {
  kNone,
  kRoot,         // a directory some commands require; no two roots overlap
  kCommand,      // split into argv without a shell
  kLogFile,      // a file in an existing directory outside the roots
  kMetricsFile,  // a file in an existing directory
  kDate,         // YYYY-MM-DD, or a UTC time YYYY-MM-DDTHH:MM[:SS]Z (history only)
  kOperand,      // explain's PATH, forget's PATH or sha256
  kShard,        // K/N, parsed into Options::shard
};

// The Options member a flag sets, which also gives its value's type and,
// from Options{}, its default. An enum member takes the index of the value
// in `choices`. std::monostate: the flag sets no member of Options
// (--config, --help, --version; --exec, whose FlagCheck sets exec_argv;
// --shard, whose FlagCheck sets shard).
using FlagField =
    std::variant<std::monostate, std::string Options::*, bool Options::*, int Options::*,
                 int64_t Options::*, Mode Options::*, OnDuplicate Options::*>;

constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();

struct Flag {
  const char* name;  // the long name, without "--"
  char short_name = 0;
  // The value's placeholder in --help; nullptr for a switch.
  const char* value_name = nullptr;
  FlagGroup group = FlagGroup::kBehaviour;
  // Whether a --config file may set it; the others are command-line only.
  bool config_key = true;
  FlagField field = {};
  const char* help = "";
  // Integers: the accepted range, inclusive (kNoMax: no upper bound).
  int64_t min = 0;
  int64_t max = kNoMax;
  // Strings and enums: the only values accepted, if any.
  std::vector<const char*> choices = {};
  FlagCheck check = FlagCheck::kNone;
};

// Every flag, in the order ParseCommandLine checks them: of several
// mistakes, the first in this order is the one reported. --help lists them
// by group, in this order within each group.
const std::vector<Flag>& FlagTable();

// The flag named `name`, or nullptr.
const Flag* FindFlag(std::string_view name);

// The default as --help shows it, from Options{} ("" for none: an empty
// string, a switch, or a flag that sets no member).
std::string FlagDefault(const Flag& flag);

// The help text with the choices or the range appended.
std::string FlagHelp(const Flag& flag);

// --help's heading for a group.
const char* FlagGroupTitle(FlagGroup group);

}  // namespace ingest
