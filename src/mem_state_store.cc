#include "mem_state_store.h"

namespace ingest {

Status MemStateStore::Get(std::string_view key, std::string* value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_.find(key);
  if (it == current_.end()) return Status::NotFound(key);
  *value = it->second;
  return Status::OK();
}

Status MemStateStore::Apply(const std::vector<StateWrite>& batch, bool sync) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const StateWrite& w : batch) {
    if (w.value) {
      current_[w.key] = *w.value;
    } else {
      current_.erase(w.key);
    }
  }
  // LevelDB's log is sequential: a synced write makes every earlier write
  // durable too.
  if (sync) durable_ = current_;
  return Status::OK();
}

Status MemStateStore::Scan(std::string_view prefix,
                           const std::function<bool(std::string_view, std::string_view)>& fn) {
  std::map<std::string, std::string, std::less<>> copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = current_.lower_bound(prefix);
         it != current_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
         ++it) {
      copy.insert(*it);
    }
  }
  for (const auto& [k, v] : copy) {
    if (!fn(k, v)) break;
  }
  return Status::OK();
}

namespace {

class MemIterator final : public StateIterator {
 public:
  explicit MemIterator(std::map<std::string, std::string, std::less<>> data)
      : data_(std::move(data)), it_(data_.end()) {}
  void Seek(std::string_view key) override { it_ = data_.lower_bound(key); }
  void Next() override { ++it_; }
  bool Valid() const override { return it_ != data_.end(); }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  std::map<std::string, std::string, std::less<>> data_;
  std::map<std::string, std::string, std::less<>>::const_iterator it_;
};

}  // namespace

std::unique_ptr<StateIterator> MemStateStore::NewIterator() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::make_unique<MemIterator>(current_);
}

uint64_t MemStateStore::ApproximateSize() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [k, v] : current_) n += k.size() + v.size();
  return n;
}

void MemStateStore::DropUnsynced() {
  std::lock_guard<std::mutex> lock(mu_);
  current_ = durable_;
}

}  // namespace ingest
