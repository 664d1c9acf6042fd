#include "dry_run.h"

#include <cstdio>

#include "hooks.h"
#include "intent_effects.h"
#include "name_escape.h"

namespace ingest {

void ReportDryRun(const PassContext& ctx, const std::vector<Planned>& plan, PassStats* stats) {
  for (const Planned& p : plan) {
    const std::string source = Printable(p.source_dir().Child(p.file->candidate.name));
    const std::string dest = Printable(DestPath(ctx, p.intent));
    const std::string original = Printable(p.duplicate_of);
    switch (p.action) {
      case Action::kIngest:
        std::printf("ingest %s -> %s\n", source.c_str(), dest.c_str());
        if (HooksEnabled(*ctx.options)) std::printf("hook %s: would run\n", dest.c_str());
        ++stats->files_ingested;
        stats->bytes_ingested += p.intent.size;
        break;
      case Action::kQuarantine:
        std::printf("duplicate of %s: %s -> %s\n", original.c_str(), source.c_str(), dest.c_str());
        ++stats->duplicates;
        break;
      case Action::kDelete:
        std::printf("duplicate of %s: %s would be deleted\n", original.c_str(), source.c_str());
        ++stats->duplicates;
        break;
      case Action::kKeep:
        std::printf("duplicate of %s: %s would be kept in staging\n", original.c_str(),
                    source.c_str());
        ++stats->duplicates;
        break;
    }
  }
}

}  // namespace ingest
