#pragma once

#include <string>

#include "env.h"
#include "pass_context.h"
#include "state_store.h"

namespace ingest {

// Writes the Prometheus textfile-collector file at `path` (atomically): the
// running totals kept in the state (files, bytes, duplicates, failures,
// passes), and gauges of the last pass, including the time of the last
// successful one and the backlog it left in staging (stats.backlog). `ok`
// says whether this pass succeeded. With --shard, `shard` ("K/N") labels
// every series shard="K/N", so the files of all shards can be collected on
// one host; "" for no label.
Status WriteMetricsFile(Env* env, StateStore* state, const std::string& path,
                        const std::string& shard, const PassStats& stats, bool ok, double seconds,
                        int64_t now_ns);

}  // namespace ingest
