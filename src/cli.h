#pragma once

#include <string>
#include <vector>

#include "options.h"

namespace ingest {

// What the command line asks for.
struct CommandLine {
  std::string command = "run";  // the subcommand
  bool help = false;
  bool version = false;
  Options options;
};

// The root directories a command requires, and whether it takes an
// operand: a PATH (explain), or a PATH or a sha256 (forget). No other
// command accepts one.
enum RootFlags : unsigned {
  kNeedInput = 1,
  kNeedWarehouse = 2,
  kNeedManifests = 4,
  kNeedState = 8,
  kNeedAllRoots = 15,
  kNeedPath = 16,
  kNeedTarget = 32,
};

// Parses and validates argv[1..] (after the subcommand, if any). On error
// returns false with one sentence in *err that names the flag and the
// cause. `required` (RootFlags) names the roots the command needs, and
// whether it takes a PATH; roots given but not required are still checked.
bool ParseCommandLine(const std::vector<std::string>& args, unsigned required, CommandLine* out,
                      std::string* err);

// The --help text for the flags, grouped.
std::string FlagsHelp();

}  // namespace ingest
