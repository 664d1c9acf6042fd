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

// Parses and validates argv[1..] (after the subcommand, if any). On error
// returns false with one sentence in *err that names the flag and the
// cause. `needs_roots` says whether the subcommand uses --input and
// --warehouse (all need --state-path and --manifests).
bool ParseCommandLine(const std::vector<std::string>& args, bool needs_roots, CommandLine* out,
                      std::string* err);

// The --help text for the flags, grouped.
std::string FlagsHelp();

}  // namespace ingest
