#include "warehouse.h"

#include <cstdint>

namespace ingest {

namespace {

// The first at most `n` (>= 1) bytes of `s`, cut before a UTF-8 sequence
// rather than inside one, so that shortening a UTF-8 name keeps it UTF-8
// (its manifest record then needs no escaping). Never empty; bytes that are
// not UTF-8 anyway are cut at `n`.
std::string_view CutAtCharBoundary(std::string_view s, size_t n) {
  if (s.size() <= n) return s;
  auto continuation = [&](size_t i) { return (static_cast<uint8_t>(s[i]) & 0xC0) == 0x80; };
  size_t cut = n;
  while (cut > 1 && n - cut < 3 && continuation(cut)) --cut;
  return s.substr(0, continuation(cut) ? n : cut);
}

}  // namespace

std::string PartitionDir(const UtcTime& t) { return "ingest_date=" + t.Date(); }

std::string DuplicatesDir(const UtcTime& t) {
  return std::string(kDuplicatesDirName) + "/" + PartitionDir(t);
}

namespace {

// `name` with "." + `tag` inserted before its extension.
std::string TaggedName(std::string_view name, std::string_view tag_text) {
  // The extension starts at the first dot that is not the first byte, so
  // "a.csv.gz" keeps ".csv.gz" together.
  size_t dot = name.find('.', 1);
  std::string_view stem = dot == std::string_view::npos ? name : name.substr(0, dot);
  std::string_view ext = dot == std::string_view::npos ? std::string_view() : name.substr(dot);
  std::string tag = "." + std::string(tag_text);
  if (ext.size() + tag.size() >= kMaxNameBytes) {
    ext = CutAtCharBoundary(ext, kMaxNameBytes - tag.size() - 1);
  }
  size_t room = kMaxNameBytes - tag.size() - ext.size();
  stem = CutAtCharBoundary(stem, room);
  std::string out(stem);
  out += tag;
  out += ext;
  return out;
}

}  // namespace

std::string CollisionName(std::string_view name, std::string_view sha256, size_t sha_chars) {
  return TaggedName(name, sha256.substr(0, sha_chars));
}

std::string NumberedCollisionName(std::string_view name, std::string_view sha256, uint64_t n) {
  return TaggedName(name, std::string(sha256) + "-" + std::to_string(n));
}

}  // namespace ingest
