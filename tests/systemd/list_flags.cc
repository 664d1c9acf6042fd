// Prints the flag table for the documentation tests: one flag a line, its
// long name and whether a --config file may set it ("config") or only the
// command line ("command-line").
#include <cstdio>

#include "flags.h"

int main() {
  for (const ingest::Flag& f : ingest::FlagTable()) {
    if (f.group == ingest::FlagGroup::kHidden) continue;
    std::printf("%s %s\n", f.name, f.config_key ? "config" : "command-line");
  }
  return 0;
}
