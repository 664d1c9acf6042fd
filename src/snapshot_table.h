#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "records.h"
#include "state_store.h"

namespace ingest {

// The stability snapshots of one directory, read in step with its listing.
// Records are keyed by (listing offset, name), so on filesystems that list
// in offset order (ext4, xfs, btrfs) a pass reads them with one sequential
// sweep instead of a random lookup per entry. Records that the sweep passes
// without the listing naming them belong to files that have left staging,
// and are deleted: the table does not grow without bound. Where a listing
// is not in offset order, lookups seek instead and pruning waits for an
// ordered pass. Writes are buffered and unsynced: snapshots are hints.
// Not thread-safe.
class SnapshotTable {
 public:
  // `writable` is false for a dry run: nothing is put or pruned.
  SnapshotTable(StateStore* store, uint64_t dir_ino, bool writable);

  // Starts a listing that begins at offset `start` (0 for a full listing).
  void Begin(int64_t start);
  // The record of the entry listed at `pos` as `name`, if any.
  Status Find(int64_t pos, std::string_view name, std::optional<Snapshot>* out);
  void Put(int64_t pos, std::string_view name, const Snapshot& s);
  // After the listing reached its end: prunes records past the last entry.
  Status End();
  Status Flush();

  std::string Key(int64_t pos, std::string_view name) const;
  uint64_t pruned() const { return pruned_; }

 private:
  void Prune(std::string_view key);

  StateStore* store_;
  const std::string prefix_;
  const bool writable_;
  std::unique_ptr<StateIterator> it_;
  std::string last_key_;
  std::string next_key_;  // Find's buffer, reused
  uint64_t finds_ = 0;
  // The listing has come in key order from its start, so keys the sweep
  // skips were not listed.
  bool ordered_ = true;
  std::vector<StateWrite> writes_;
  uint64_t pruned_ = 0;
};

}  // namespace ingest
