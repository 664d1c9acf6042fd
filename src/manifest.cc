#include "manifest.h"

#include <boost/json.hpp>
#include <cerrno>

#include "name_escape.h"

namespace ingest {

namespace json = boost::json;

std::string FormatManifestLine(const ManifestRecord& r) {
  // Written field by field in a fixed order, which is what serializing a
  // json::object built in that order gives, without building one: the
  // committer formats one line per file on its serial path.
  const bool escaped =
      !IsValidUtf8(r.path) || !IsValidUtf8(r.source) || !IsValidUtf8(r.reingest_of);
  std::string line;
  line.reserve(r.path.size() + r.source.size() + 256);
  auto field = [&](std::string_view key) {
    line += line.empty() ? "{\"" : ",\"";
    line += key;
    line += "\":";
  };
  auto str = [&](std::string_view key, std::string_view value) {
    field(key);
    line += json::serialize(json::string_view(value.data(), value.size()));
  };
  auto num = [&](std::string_view key, auto value) {
    field(key);
    line += std::to_string(value);
  };
  str("path", escaped ? EscapeName(r.path) : r.path);
  str("source", escaped ? EscapeName(r.source) : r.source);
  str("sha256", r.sha256);
  num("device", r.device);
  num("inode", r.inode);
  num("size", r.size);
  // Whole seconds, rounded down also before 1970.
  num("mtime", r.mtime_ns / 1000000000 - (r.mtime_ns % 1000000000 < 0 ? 1 : 0));
  num("mtime_ns", r.mtime_ns);
  str("ingested_at", r.ingested_at);
  if (!r.reingest_of.empty()) {
    str("reingest_of", escaped ? EscapeName(r.reingest_of) : r.reingest_of);
  }
  if (escaped) line += ",\"escaped\":true";
  line += "}\n";
  return line;
}

bool ParseManifestLine(std::string_view line, ManifestRecord* r) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  auto str = [&](const char* key, std::string* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_string()) return false;
    *out = std::string(f->get_string());
    return true;
  };
  auto u64 = [&](const char* key, uint64_t* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr) return false;
    if (f->is_uint64()) {
      *out = f->get_uint64();
    } else if (f->is_int64() && f->get_int64() >= 0) {
      *out = static_cast<uint64_t>(f->get_int64());
    } else {
      return false;
    }
    return true;
  };
  int64_t mtime_ns = 0;
  auto i64 = [&](const char* key, int64_t* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_int64()) return false;
    *out = f->get_int64();
    return true;
  };
  std::string path, source;
  if (!str("path", &path) || !str("source", &source) || !str("sha256", &r->sha256) ||
      !u64("device", &r->device) || !u64("inode", &r->inode) || !u64("size", &r->size) ||
      !i64("mtime_ns", &mtime_ns) || !str("ingested_at", &r->ingested_at)) {
    return false;
  }
  r->mtime_ns = mtime_ns;
  std::string reingest_of;
  if (o.contains("reingest_of") && !str("reingest_of", &reingest_of)) return false;
  const json::value* escaped = o.if_contains("escaped");
  if (escaped != nullptr && escaped->is_bool() && escaped->get_bool()) {
    if (!UnescapeName(path, &r->path) || !UnescapeName(source, &r->source) ||
        !UnescapeName(reingest_of, &r->reingest_of)) {
      return false;
    }
  } else {
    r->path = std::move(path);
    r->source = std::move(source);
    r->reingest_of = std::move(reingest_of);
  }
  return true;
}

}  // namespace ingest
