#include "recent_batches.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace ingest {

namespace {

uint64_t NameHash(std::string_view dir, std::string_view name) {
  const std::hash<std::string_view> h;
  return h(dir) ^ (h(name) * 0x9E3779B97F4A7C15ull);
}

std::array<char, 64> ShaKey(std::string_view sha256) {
  std::array<char, 64> key{};
  std::memcpy(key.data(), sha256.data(), std::min(sha256.size(), key.size()));
  return key;
}

}  // namespace

void RecentBatch::Add(std::string_view dest_dir, std::string_view dest_name, bool ingested,
                      std::string_view sha256) {
  names_.push_back(NameHash(dest_dir, dest_name));
  if (!ingested) return;
  const auto at = static_cast<uint32_t>(rels_.size());
  if (!dest_dir.empty()) rels_.append(dest_dir).append("/");
  rels_.append(dest_name);
  ingested_.push_back({ShaKey(sha256), at, static_cast<uint32_t>(rels_.size() - at)});
}

void RecentBatch::Seal() {
  std::sort(names_.begin(), names_.end());
  std::sort(ingested_.begin(), ingested_.end(),
            [](const Content& a, const Content& b) { return a.sha256 < b.sha256; });
  names_.shrink_to_fit();
  ingested_.shrink_to_fit();
  rels_.shrink_to_fit();
}

bool RecentBatch::MayHaveName(std::string_view dest_dir, std::string_view name) const {
  return std::binary_search(names_.begin(), names_.end(), NameHash(dest_dir, name));
}

bool RecentBatch::FindIngested(std::string_view sha256, std::string* dest_rel) const {
  const std::array<char, 64> key = ShaKey(sha256);
  auto it = std::lower_bound(
      ingested_.begin(), ingested_.end(), key,
      [](const Content& c, const std::array<char, 64>& k) { return c.sha256 < k; });
  if (it == ingested_.end() || it->sha256 != key) return false;
  dest_rel->assign(rels_, it->at, it->len);
  return true;
}

void RecentBatches::Started(RecentBatch batch) {
  batches_.push_back(std::move(batch));
  if (batches_.size() > kKept) batches_.pop_front();
  ++started_;
}

bool RecentBatches::Since(uint64_t seen, Iterator* first) const {
  const uint64_t missed = started_ - seen;
  if (missed > batches_.size()) return false;
  *first = batches_.cend() - static_cast<std::ptrdiff_t>(missed);
  return true;
}

bool RecentBatches::MayHaveName(Iterator first, std::string_view dest_dir,
                                std::string_view name) const {
  return std::any_of(first, end(),
                     [&](const RecentBatch& b) { return b.MayHaveName(dest_dir, name); });
}

bool RecentBatches::FindIngested(Iterator first, std::string_view sha256,
                                 std::string* dest_rel) const {
  for (auto it = first; it != end(); ++it) {
    if (it->FindIngested(sha256, dest_rel)) return true;
  }
  return false;
}

}  // namespace ingest
