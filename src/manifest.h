#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ingest {

inline constexpr std::string_view kManifestFileName = "manifest.jsonl";

// One JSON Lines record of a committed file. Paths are byte strings; see
// name_escape.h for how names that are not UTF-8 are written.
struct ManifestRecord {
  std::string path;    // final warehouse path
  std::string source;  // original staging path
  std::string sha256;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string ingested_at;  // RFC 3339, UTC
  // Set on a content ingested again because its first ingest, at this
  // path, was no longer in the warehouse; else empty (and not written).
  std::string reingest_of;
};

// Renders one record as a single line of strict JSON ending in '\n'.
std::string FormatManifestLine(const ManifestRecord& record);
// Parses one line (with or without its '\n'). Returns false for anything
// that is not a complete record.
bool ParseManifestLine(std::string_view line, ManifestRecord* record);

}  // namespace ingest
