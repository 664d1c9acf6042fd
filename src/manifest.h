#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "env.h"

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
};

// Renders one record as a single line of strict JSON ending in '\n'.
std::string FormatManifestLine(const ManifestRecord& record);
// Parses one line (with or without its '\n'). Returns false for anything
// that is not a complete record.
bool ParseManifestLine(std::string_view line, ManifestRecord* record);

// Appends records to <root>/<hour dir>/manifest.jsonl. The first time a
// file is opened, a torn tail (bytes after the last newline, left by a
// power loss during an append that was never synced and so never
// committed) is truncated before anything is appended. Not thread-safe;
// the committer owns it.
class ManifestWriter {
 public:
  // `root` must outlive the writer.
  ManifestWriter(Env* env, const File* root) : env_(env), root_(root) {}

  // Appends `lines` (whole lines) to the hour's file.
  Status Append(const std::string& hour_dir, std::string_view lines);
  // Makes every appended line durable: fdatasync of each written file,
  // plus syncfs when a file or directory was created since the last Sync.
  // On error nothing since the last successful Sync counts as written.
  Status Sync();
  // Truncates every file back to its size at the last successful Sync,
  // taking back lines whose Sync failed. Best effort.
  void Rollback();
  // Whether the hour's file holds `line` as one of its lines. A missing
  // file holds nothing.
  Status Contains(const std::string& hour_dir, std::string_view line, bool* found);

 private:
  struct OpenManifest {
    File file;
    bool dirty = false;
    uint64_t synced_size = 0;  // size after the last successful Sync
  };
  Status Open(const std::string& hour_dir, bool create, OpenManifest** out);

  Env* env_;
  const File* root_;
  // A pass touches few hours; older ones are closed once synced.
  std::map<std::string, OpenManifest> files_;
  bool created_ = false;
};

// Truncates bytes after the last '\n' of `file`. *repaired tells whether
// anything was cut.
Status TruncateTornTail(Env* env, const File& file, bool* repaired);

}  // namespace ingest
