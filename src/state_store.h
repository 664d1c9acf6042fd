#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "status.h"

namespace ingest {

// One change to the state: a put, or a delete when `value` is empty.
struct StateWrite {
  std::string key;
  std::optional<std::string> value;
};

// A cursor over the store's keys in order. Not thread-safe.
class StateIterator {
 public:
  virtual ~StateIterator() = default;
  // Positions at the first key >= `key`.
  virtual void Seek(std::string_view key) = 0;
  virtual void Next() = 0;
  virtual bool Valid() const = 0;
  // Valid until the next move.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

// The ordered key-value store that holds the state (LevelDB in production,
// an in-memory store with power-loss semantics in crash tests). A batch of
// writes is applied atomically; with `sync` it is durable when Apply returns.
// Thread-safe.
class StateStore {
 public:
  virtual ~StateStore() = default;
  // NotFound when the key is absent.
  virtual Status Get(std::string_view key, std::string* value) = 0;
  virtual Status Apply(const std::vector<StateWrite>& batch, bool sync) = 0;
  // Calls `fn` for each key with the prefix, in key order, until it returns
  // false. Writes made during the scan may or may not be seen.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) = 0;
  // An iterator for sequential reads; it does not fill caches meant for
  // random lookups.
  virtual std::unique_ptr<StateIterator> NewIterator() = 0;
  // Bytes the store occupies on disk (approximate).
  virtual uint64_t ApproximateSize() = 0;
};

// Opens (or with `create`, creates) the LevelDB database in `dir` with
// paranoid checks. A missing database without `create`, or a corrupted one,
// is an error that names `dir`.
Status OpenLevelDbStore(const std::string& dir, bool create, std::unique_ptr<StateStore>* store);

// Opens a private copy of the database in `dir`, for a dry run, `status`
// and `explain`: LevelDB rewrites its log and manifest whenever it opens,
// and these must leave the state as they found it. It needs no lock, so it
// works while another run has the database open. Table files are
// hard-linked where possible, so the copy costs about the size of the logs,
// not of the database. The copy is removed when the store is destroyed.
// NotFound when there is no database yet.
Status OpenLevelDbSnapshot(const std::string& dir, std::unique_ptr<StateStore>* store);

}  // namespace ingest
