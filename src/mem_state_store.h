#pragma once

#include <map>
#include <mutex>

#include "state_store.h"

namespace ingest {

// An in-memory StateStore. It keeps what a synced Apply made durable apart
// from what is only written, so a test can simulate power loss with
// DropUnsynced(); a dry run without a state directory plans against an
// empty one.
class MemStateStore : public StateStore {
 public:
  Status Get(std::string_view key, std::string* value) override;
  Status Apply(const std::vector<StateWrite>& batch, bool sync) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override;
  // Iterates over a copy taken now.
  std::unique_ptr<StateIterator> NewIterator() override;
  uint64_t ApproximateSize() override;

  // Forgets every write since the last synced Apply, as a power loss would.
  void DropUnsynced();

 private:
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> current_;
  std::map<std::string, std::string, std::less<>> durable_;
};

}  // namespace ingest
