#include "shard.h"

#include <charconv>

#include "sha256.h"
#include "sidecar.h"

namespace ingest {

namespace {

// A decimal number filling all of `text`.
bool ParseNumber(std::string_view text, uint32_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && p == end;
}

}  // namespace

std::string Shard::ToString() const {
  if (!enabled()) return "";
  return std::to_string(index) + "/" + std::to_string(count);
}

bool ParseShard(std::string_view text, Shard* out, std::string* why) {
  const size_t slash = text.find('/');
  uint32_t k = 0, n = 0;
  if (slash == std::string_view::npos || !ParseNumber(text.substr(0, slash), &k) ||
      !ParseNumber(text.substr(slash + 1), &n)) {
    *why = "must be K/N, two decimal numbers (shard K of N, counting from 0)";
    return false;
  }
  if (n < 1 || n > kMaxShards) {
    *why = "N must be between 1 and " + std::to_string(kMaxShards);
    return false;
  }
  if (k >= n) {
    *why = "K must be less than N (shards count from 0 to " + std::to_string(n - 1) + ")";
    return false;
  }
  *out = Shard{k, n};
  return true;
}

uint32_t ShardOf(std::string_view rel, uint32_t count) {
  // The first 16 hex digits are the first 8 bytes, most significant first.
  const std::string hex = Sha256::HexOf(rel);
  uint64_t prefix = 0;
  for (size_t i = 0; i < 16; ++i) {
    const char c = hex[i];
    prefix = prefix << 4 | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<uint32_t>(prefix % count);
}

std::string_view ShardOwnerName(std::string_view name) {
  for (std::string_view suffix : {kSidecarSuffix, std::string_view(".tmp"),
                                  std::string_view(".part"), std::string_view(".swp")}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name;
}

bool ShardTakes(const Shard& shard, std::string_view input, std::string_view source) {
  if (!shard.enabled()) return true;
  const size_t skip = input == "/" ? 1 : input.size() + 1;
  if (source.size() <= skip) return false;
  return ShardOf(source.substr(skip), shard.count) == shard.index;
}

}  // namespace ingest
