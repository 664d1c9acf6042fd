#pragma once

#include <vector>

#include "pass_context.h"
#include "plan.h"

namespace ingest {

// Prints what committing `plan` would do, one line per file, instead of
// doing it (--dry-run), and counts it in `stats` as the commit would.
void ReportDryRun(const PassContext& ctx, const std::vector<Planned>& plan, PassStats* stats);

}  // namespace ingest
