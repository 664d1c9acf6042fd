#include "metrics.h"

#include <cstdio>
#include <utility>

#include "codec.h"
#include "fs_util.h"

namespace ingest {

namespace {

constexpr std::string_view kTotalsKey = "m/totals";

struct Totals {
  uint64_t files = 0, bytes = 0, duplicates = 0, failures = 0, passes = 0;
  int64_t last_success_ns = 0;
};

Totals Load(StateStore* state) {
  Totals t;
  std::string value;
  if (!state->Get(kTotalsKey, &value).ok()) return t;
  Decoder d(value);
  Totals read;
  if (d.GetVarint(&read.files) && d.GetVarint(&read.bytes) && d.GetVarint(&read.duplicates) &&
      d.GetVarint(&read.failures) && d.GetVarint(&read.passes) &&
      d.GetSigned(&read.last_success_ns)) {
    t = read;
  }
  return t;
}

std::string Encode(const Totals& t) {
  Encoder e;
  e.PutVarint(t.files);
  e.PutVarint(t.bytes);
  e.PutVarint(t.duplicates);
  e.PutVarint(t.failures);
  e.PutVarint(t.passes);
  e.PutSigned(t.last_success_ns);
  return e.Release();
}

// The labels every series carries: shard="K/N" with --shard, else none.
// `extra` ("name=\"value\"") comes first.
std::string Labels(const std::string& shard, const std::string& extra = "") {
  std::string l = extra;
  if (!shard.empty()) l += (l.empty() ? "" : ",") + std::string("shard=\"") + shard + "\"";
  return l.empty() ? l : "{" + l + "}";
}

void Metric(std::string* out, const std::string& labels, const char* name, const char* type,
            const char* help, double v) {
  char buf[384];
  const bool whole = v == static_cast<double>(static_cast<int64_t>(v));
  std::snprintf(
      buf, sizeof buf,
      whole ? "# HELP atomic_ingest_%s %s\n# TYPE atomic_ingest_%s %s\natomic_ingest_%s%s %.0f\n"
            : "# HELP atomic_ingest_%s %s\n# TYPE atomic_ingest_%s %s\natomic_ingest_%s%s %.6f\n",
      name, help, name, type, name, labels.c_str(), v);
  *out += buf;
}

// A gauge with one series per group of the backlog (backlog.h): every
// group always, so that a group emptied shows 0 rather than vanish.
void GroupGauge(std::string* out, const std::string& shard, const char* name, const char* help,
                const Backlog& b, uint64_t BacklogGroup::*field) {
  *out += std::string("# HELP atomic_ingest_") + name + " " + help + "\n# TYPE atomic_ingest_" +
          name + " gauge\n";
  for (const auto& [group, g] :
       {std::pair{"not_yet_stable", &b.not_yet_stable},
        std::pair{"waiting_for_ok", &b.waiting_for_ok}, std::pair{"failed", &b.failed}}) {
    *out += std::string("atomic_ingest_") + name +
            Labels(shard, std::string("group=\"") + group + "\"") + " " +
            std::to_string(g->*field) + "\n";
  }
}

}  // namespace

Status WriteMetricsFile(Env* env, StateStore* state, const std::string& path,
                        const std::string& shard, const PassStats& stats, bool ok, double seconds,
                        int64_t now_ns) {
  Totals t = Load(state);
  t.files += stats.files_ingested;
  t.bytes += stats.bytes_ingested;
  t.duplicates += stats.duplicates;
  t.failures += stats.failed + (ok ? 0 : 1);
  t.passes += 1;
  if (ok && stats.failed == 0) t.last_success_ns = now_ns;
  Status s = state->Apply({{std::string(kTotalsKey), Encode(t)}}, /*sync=*/false);
  if (!s.ok()) return s;

  std::string out;
  auto d = [](uint64_t v) { return static_cast<double>(v); };
  const std::string labels = Labels(shard);
  Metric(&out, labels, "files_ingested_total", "counter", "Files ingested.", d(t.files));
  Metric(&out, labels, "bytes_ingested_total", "counter", "Bytes ingested.", d(t.bytes));
  Metric(&out, labels, "duplicates_total", "counter", "Duplicate files seen.", d(t.duplicates));
  Metric(&out, labels, "failures_total", "counter", "Files that failed, plus passes that stopped.",
         d(t.failures));
  Metric(&out, labels, "passes_total", "counter", "Passes run.", d(t.passes));
  Metric(&out, labels, "last_pass_files", "gauge", "Files ingested by the last pass.",
         d(stats.files_ingested));
  Metric(&out, labels, "last_pass_bytes", "gauge", "Bytes ingested by the last pass.",
         d(stats.bytes_ingested));
  Metric(&out, labels, "last_pass_duplicates", "gauge", "Duplicates seen by the last pass.",
         d(stats.duplicates));
  Metric(&out, labels, "last_pass_failures", "gauge", "Files that failed in the last pass.",
         d(stats.failed));
  Metric(&out, labels, "last_pass_deferred", "gauge", "Files not yet complete in the last pass.",
         d(stats.deferred));
  Metric(&out, labels, "last_pass_queue_depth", "gauge", "Peak queue depth of the last pass.",
         d(stats.queue_depth_peak));
  Metric(&out, labels, "last_pass_duration_seconds", "gauge", "Duration of the last pass.",
         seconds);
  Metric(&out, labels, "last_pass_success", "gauge", "1 when the last pass had no failure.",
         ok && stats.failed == 0 ? 1 : 0);
  Metric(&out, labels, "last_success_timestamp_seconds", "gauge",
         "Unix time of the last pass without failures.",
         static_cast<double>(t.last_success_ns) / 1e9);
  // Counted by the pass's own scan as it decided each entry (scan.h), not
  // by another walk of staging.
  // Left out when the scan did not run to its end, so that an alert on the
  // backlog never goes quiet because ingest is broken.
  if (stats.backlog_counted) {
    GroupGauge(&out, shard, "backlog_files", "Files the last pass left waiting in staging, by why.",
               stats.backlog, &BacklogGroup::files);
    GroupGauge(&out, shard, "backlog_bytes",
               "Bytes of the files the last pass left waiting in staging.", stats.backlog,
               &BacklogGroup::bytes);
    Metric(&out, labels, "backlog_oldest_age_seconds", "gauge",
           "Seconds since the oldest file left waiting last changed (its ctime); 0 for none.",
           static_cast<double>(stats.backlog.OldestAgeNs(now_ns)) / 1e9);
  }

  const size_t slash = path.rfind('/');
  const std::string dir_path = slash == 0 ? "/" : path.substr(0, slash);
  File dir;
  s = env->OpenDir(dir_path, &dir);
  if (!s.ok()) return s;
  return WriteFileAtomically(env, dir, path.substr(slash + 1), out);
}

}  // namespace ingest
