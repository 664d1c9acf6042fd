#pragma once

#include <vector>

#include "cli.h"
#include "options.h"

namespace ingest {

// Exit codes (README.md, "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLocked = 75;  // EX_TEMPFAIL

// A command of the command line: `atomic-ingest NAME [FLAGS]`.
struct Command {
  const char* name;
  const char* description;
  unsigned roots;  // RootFlags the command requires
  int (*run)(const Options&);
};

// Every command, the default (run) first.
const std::vector<Command>& Commands();

}  // namespace ingest
