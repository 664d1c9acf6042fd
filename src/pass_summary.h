#pragma once

#include <string>

#include "pass_context.h"

namespace ingest {

// The summary record of a pass that took `seconds`: one JSON object on one
// line, logged as "summary {...}" and kept in the state as the last pass's
// (README.md, "Logs and the summary").
std::string SummaryJson(const PassStats& stats, double seconds);

// The summary as the state keeps it for `status`: `summary` with the
// "host" that ran the pass, and with --shard the "shard" ("K/N"), so that
// one `status` per shard shows which host ran it last.
std::string LastPassJson(const std::string& summary, const std::string& host,
                         const std::string& shard);

}  // namespace ingest
