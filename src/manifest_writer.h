#pragma once

#include <map>
#include <string>
#include <string_view>

#include "env.h"

namespace ingest {

// Appends records to <root>/<hour dir>/manifest.jsonl, which other
// instances (other staging directories, other hosts) may append to as well.
// An append takes an exclusive flock on the hour's file (CephFS, GlusterFS
// and NFSv4 honour it across clients) and holds it until its Sync or
// Rollback, so that no writer interleaves its records with another's, and
// a rollback only ever takes back its own lines. Under the lock, before
// anything is appended, a torn tail (bytes after the last newline, left by
// a writer that died during an append that was never synced and so never
// committed) is truncated. Not thread-safe; the committer owns it.
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
  // Truncates every file back to its size before this writer's unsynced
  // appends, taking back lines whose Sync failed. Best effort.
  void Rollback();
  // Whether the hour's file holds `line` as one of its lines. A missing
  // file holds nothing.
  Status Contains(const std::string& hour_dir, std::string_view line, bool* found);

 private:
  struct OpenManifest {
    File file;
    bool dirty = false;
    bool locked = false;       // holds the flock, from an Append to its Sync
    uint64_t synced_size = 0;  // its size when the lock was taken
  };
  Status Open(const std::string& hour_dir, bool create, OpenManifest** out);
  // Takes the hour file's lock for an append, and repairs its torn tail.
  Status Lock(OpenManifest* m);
  void Unlock(OpenManifest* m);

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
