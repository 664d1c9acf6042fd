#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "env.h"
#include "manifest.h"

namespace ingest {

// `atomic-ingest history`: what was ingested in a time range, read from the
// manifests alone (the source of truth), so it needs neither staging nor
// the state, and takes no lock.

// Inclusive bounds on a record's ingested_at, in nanoseconds since the
// epoch.
struct HistoryRange {
  int64_t since_ns = 0;
  int64_t until_ns = 0;
  bool open_since = false;  // no --since: from the first record
  bool open_until = false;  // no --until: to the last
};

// The range that --since and --until name (both already checked by the
// flag check, clock.h's ParseUtcTime): a date is its whole UTC day, a time
// that instant. A bound not given is open, except that with neither the
// range is the UTC day of `now_ns`, so that "what arrived today?" needs no
// flag.
HistoryRange HistoryRangeOf(const std::string& since, const std::string& until, int64_t now_ns);

struct HistoryStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  // Complete lines of the hours read that are not records (someone else's
  // garbage): logged as warnings and passed over, as rebuild-state does.
  uint64_t bad_lines = 0;
};

// Walks the manifests of the hours that overlap `range`, oldest first,
// without opening any other, and gives `out` each record ingested within
// it, in manifest order: in text, HistoryLine; with `json`, the manifest
// line exactly as it is, newline included. A torn last line is a batch
// that never committed, not a record. A missing manifest root holds no
// records.
Status History(Env* env, const std::string& manifests, const HistoryRange& range, bool json,
               const std::function<void(std::string_view)>& out, HistoryStats* stats);

// One record for people, tab-separated so that `cut` and `awk -F'\t'`
// split it (Printable escapes any tab in a name): ingested_at, size, the
// warehouse path, the staging path and, for a re-ingest of a file that had
// gone missing, "reingest of <first path>". Ends in '\n'.
std::string HistoryLine(const ManifestRecord& record);

// The text's last line: "N files, B bytes, ingested <range>", and the
// lines that were not records, if any.
std::string HistorySummary(const HistoryStats& stats, const HistoryRange& range);

}  // namespace ingest
