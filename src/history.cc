#include "history.h"

#include <spdlog/spdlog.h>

#include "clock.h"
#include "manifest_reader.h"
#include "name_escape.h"

namespace ingest {

namespace {

constexpr int64_t kHourNs = 3600 * kNanosPerSecond;

bool InRange(int64_t ns, const HistoryRange& r) {
  return (r.open_since || ns >= r.since_ns) && (r.open_until || ns <= r.until_ns);
}

// Whether the hour "YYYY/MM/DD/HH" of the manifest tree may hold records of
// the range. The records of an hour's file are those a batch stamped with
// that hour (plan.cc takes both from one time), so no other file can.
bool HourWanted(std::string_view hour, const HistoryRange& r) {
  if (hour.size() != 13) return false;
  std::string text(hour.substr(0, 10));
  text[4] = text[7] = '-';
  text += "T" + std::string(hour.substr(11, 2)) + ":00Z";
  int64_t start = 0;
  if (!ParseUtcTime(text, /*end_of_day=*/false, &start)) return false;
  return (r.open_until || start <= r.until_ns) && (r.open_since || start + kHourNs > r.since_ns);
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// One manifest file's records in range, in order.
Status ReadManifest(Env* env, const File& manifest, const HistoryRange& range, bool json,
                    const std::function<void(std::string_view)>& out, HistoryStats* stats) {
  ManifestLineReader reader(env, manifest);
  std::string line;
  return reader.ForEach([&](const ManifestLine& l) {
    ManifestRecord r;
    int64_t at = 0;
    if (!ParseManifestLine(l.text, &r) || !ParseUtcTime(r.ingested_at, false, &at)) {
      ++stats->bad_lines;
      spdlog::warn("{}:{}: not a manifest record, ignored", Printable(manifest.path()), l.number);
      return Status::OK();
    }
    if (!InRange(at, range)) return Status::OK();
    ++stats->files;
    stats->bytes += r.size;
    if (json) {
      line.assign(l.text);
      line += '\n';
    } else {
      line = HistoryLine(r);
    }
    out(line);
    return Status::OK();
  });
}

}  // namespace

HistoryRange HistoryRangeOf(const std::string& since, const std::string& until, int64_t now_ns) {
  HistoryRange r;
  if (since.empty() && until.empty()) {
    const std::string today = UtcTime(now_ns).Date();
    (void)ParseUtcTime(today, /*end_of_day=*/false, &r.since_ns);
    (void)ParseUtcTime(today, /*end_of_day=*/true, &r.until_ns);
    return r;
  }
  // The flag check accepted both already; a bound that does not parse
  // stays open rather than empty the range.
  r.open_since = since.empty() || !ParseUtcTime(since, /*end_of_day=*/false, &r.since_ns);
  r.open_until = until.empty() || !ParseUtcTime(until, /*end_of_day=*/true, &r.until_ns);
  return r;
}

Status History(Env* env, const std::string& manifests, const HistoryRange& range, bool json,
               const std::function<void(std::string_view)>& out, HistoryStats* stats) {
  File root;
  Status s = env->OpenDir(manifests, &root);
  if (s.IsNotFound()) return Status::OK();  // nothing ingested yet
  if (!s.ok()) return s;
  ManifestTree tree(env, root, ManifestTree::Order::kOldestFirst,
                    [&](std::string_view hour) { return HourWanted(hour, range); });
  for (;;) {
    ManifestFile m;
    bool done = false;
    s = tree.Next(&m, &done);
    if (s.IsNotFound()) continue;  // removed while listed
    if (!s.ok()) return s;
    if (done) return Status::OK();
    s = ReadManifest(env, m.file, range, json, out, stats);
    if (!s.ok()) return s;
  }
}

std::string HistoryLine(const ManifestRecord& r) {
  std::string line = r.ingested_at + "\t" + std::to_string(r.size) + "\t" + Printable(r.path) +
                     "\t" + Printable(r.source);
  if (!r.reingest_of.empty()) line += "\treingest of " + Printable(r.reingest_of);
  return line + "\n";
}

std::string HistorySummary(const HistoryStats& stats, const HistoryRange& range) {
  std::string out = Plural(stats.files, "file", "files") + ", " +
                    Plural(stats.bytes, "byte", "bytes") + ", ingested ";
  const std::string since = UtcTime(range.since_ns).Rfc3339();
  const std::string until = UtcTime(range.until_ns).Rfc3339();
  if (range.open_since && range.open_until) {
    out += "at any time";
  } else if (range.open_since) {
    out += "up to " + until;
  } else if (range.open_until) {
    out += "since " + since;
  } else {
    out += "from " + since + " to " + until;
  }
  if (stats.bad_lines > 0) {
    out += "; " + Plural(stats.bad_lines, "manifest line", "manifest lines") +
           " not a record, ignored";
  }
  return out + "\n";
}

}  // namespace ingest
