// atomic-ingest: moves complete files from a staging directory into a
// date-partitioned warehouse, exactly once, with a manifest record each.

#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli.h"
#include "commands.h"
#include "logging.h"
#include "version.h"

namespace ingest {
namespace {

void PrintHelp() {
  std::printf(
      "Usage: atomic-ingest [COMMAND] [FLAGS]\n"
      "       atomic-ingest explain PATH [FLAGS]\n\n"
      "Moves complete files from a staging directory into a date-partitioned\n"
      "warehouse, exactly once, with a JSON Lines manifest record for each.\n\n"
      "Commands:\n");
  for (const Command& c : Commands()) std::printf("  %-15s %s\n", c.name, c.description);
  std::printf("\n%s\n", FlagsHelp().c_str());
  std::printf(
      "Exit codes:\n"
      "  0   the pass is done (also when there was nothing to do);\n"
      "      watch: stopped by SIGTERM or SIGINT\n"
      "  1   some files failed; they stay in staging and are retried next run\n"
      "      or an --exec hook failed (it runs again next run);\n"
      "      verify: a problem was found; watch: --input went away;\n"
      "      history: the manifests cannot be read;\n"
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
  // Tuning only: should glibc refuse a value, memory use is merely higher.
  (void)mallopt(M_ARENA_MAX, 2);
  (void)mallopt(M_MMAP_THRESHOLD, 128 << 10);
  // The kernel signals the holder of a file lease when a writer opens the
  // file. The leases taken to see writers (Env::HeldForWriting) last
  // microseconds and need no notice, and SIGIO would end the process.
  (void)::signal(SIGIO, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  const Command* command = &Commands().front();
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    command = nullptr;
    for (const Command& c : Commands()) {
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
