#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ingest {

// What one batch moved into the warehouse: the names it took and the
// contents it ingested. Compact, because a few of them stay in memory:
// names as 64-bit hashes (a collision only costs a stat), contents sorted.
class RecentBatch {
 public:
  void Add(std::string_view dest_dir, std::string_view dest_name, bool ingested,
           std::string_view sha256);
  // Call once every file is added.
  void Seal();
  // False when no file was moved in as `dest_dir`/`name`; true when one
  // was, or (rarely) on a hash collision.
  bool MayHaveName(std::string_view dest_dir, std::string_view name) const;
  // The "<dest dir>/<name>" this batch ingested `sha256` as, or false.
  bool FindIngested(std::string_view sha256, std::string* dest_rel) const;

 private:
  struct Content {
    std::array<char, 64> sha256;
    uint32_t at, len;  // its "<dest dir>/<name>" in rels_
  };
  std::vector<uint64_t> names_;
  std::vector<Content> ingested_;
  std::string rels_;
};

// The batches a state lookup may have missed. A lookup is stamped with
// generation() before it reads the state; the batches through step M
// since then (Since) are the ones it cannot have seen. Workers read the
// generation; the committer's threads change it.
class RecentBatches {
 public:
  using Iterator = std::deque<RecentBatch>::const_iterator;

  // At most three batches are past M and not in the state (one finishing,
  // one queued for the finisher, one waiting to be queued), and a worker's
  // lookup waits at most a batch in the done queue before its batch is
  // planned: four reach back far enough that a 100,000-file pass never
  // looked a content up again. Older lookups are redone, never trusted.
  static constexpr size_t kKept = 4;

  // Batches whose state write (C) has landed: a state lookup that read it
  // first sees every one of them. Thread-safe.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Called once a batch's state write has landed. Thread-safe.
  void Landed() { generation_.fetch_add(1, std::memory_order_release); }

  // A batch through step M (the committer's thread only).
  void Started(RecentBatch batch);
  // The batches through M that a lookup made at generation `seen` may have
  // missed, from `*first` to end(); false when they are no longer all kept.
  bool Since(uint64_t seen, Iterator* first) const;
  Iterator end() const { return batches_.cend(); }

  // Whether a batch since `first` may have moved a file in as
  // `dest_dir`/`name`.
  bool MayHaveName(Iterator first, std::string_view dest_dir, std::string_view name) const;
  // The "<dest dir>/<name>" a batch since `first` ingested `sha256` as.
  bool FindIngested(Iterator first, std::string_view sha256, std::string* dest_rel) const;

 private:
  std::atomic<uint64_t> generation_{0};
  uint64_t started_ = 0;
  std::deque<RecentBatch> batches_;  // newest last
};

}  // namespace ingest
