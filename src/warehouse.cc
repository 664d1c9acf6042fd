#include "warehouse.h"

namespace ingest {

std::string PartitionDir(const UtcTime& t) { return "ingest_date=" + t.Date(); }

std::string DuplicatesDir(const UtcTime& t) { return "_duplicates/" + PartitionDir(t); }

std::string CollisionName(std::string_view name, std::string_view sha256, size_t sha_chars) {
  // The extension starts at the first dot that is not the first byte, so
  // "a.csv.gz" keeps ".csv.gz" together.
  size_t dot = name.find('.', 1);
  std::string_view stem = dot == std::string_view::npos ? name : name.substr(0, dot);
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot);
  std::string tag = "." + std::string(sha256.substr(0, sha_chars));
  if (ext.size() + tag.size() >= kMaxNameBytes) ext = ext.substr(0, kMaxNameBytes - tag.size() - 1);
  size_t room = kMaxNameBytes - tag.size() - ext.size();
  if (stem.size() > room) stem = stem.substr(0, room);
  std::string out(stem);
  out += tag;
  out += ext;
  return out;
}

}  // namespace ingest
