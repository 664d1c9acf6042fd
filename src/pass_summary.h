#pragma once

#include <string>

#include "pass_context.h"

namespace ingest {

// The summary record of a pass that took `seconds`: one JSON object on one
// line, logged as "summary {...}" and kept in the state as the last pass's
// (README.md, "Logs and the summary").
std::string SummaryJson(const PassStats& stats, double seconds);

}  // namespace ingest
