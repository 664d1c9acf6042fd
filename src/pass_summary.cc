#include "pass_summary.h"

#include <boost/json.hpp>
#include <cmath>

namespace ingest {

namespace json = boost::json;

namespace {

// `x` to `digits` decimal places, as the record shows it.
double Rounded(double x, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(x * scale) / scale;
}

}  // namespace

std::string SummaryJson(const PassStats& st, double seconds) {
  const auto per_second = [&](uint64_t n) {
    return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
  };
  json::object o;
  o["files_ingested"] = st.files_ingested;
  o["bytes_ingested"] = st.bytes_ingested;
  o["duplicates"] = st.duplicates;
  o["deferred"] = st.deferred;
  o["failed"] = st.failed;
  o["skipped"] = st.skipped;
  o["recovered"] = st.recovered;
  o["files_per_sec"] = Rounded(per_second(st.files_ingested), 1);
  o["bytes_per_sec"] = static_cast<uint64_t>(std::llround(per_second(st.bytes_ingested)));
  o["queue_depth"] = st.queue_depth_peak;
  o["hooks_completed"] = st.hooks_completed;
  o["hooks_failed"] = st.hooks_failed;
  o["duration"] = Rounded(seconds, 3);
  return json::serialize(o);
}

std::string LastPassJson(const std::string& summary, const std::string& host,
                         const std::string& shard) {
  boost::system::error_code ec;
  json::value v = json::parse(summary, ec);
  if (ec || !v.is_object()) return summary;
  json::object& o = v.as_object();
  o["host"] = host;
  if (!shard.empty()) o["shard"] = shard;
  return json::serialize(o);
}

}  // namespace ingest
