#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ingest {

// The most shards --shard accepts.
inline constexpr uint32_t kMaxShards = 1024;

// --shard K/N: this instance takes the files of shard K of N. count 0 means
// no --shard: every file is this instance's.
struct Shard {
  uint32_t index = 0;
  uint32_t count = 0;

  bool enabled() const { return count > 0; }
  // "K/N"; "" without --shard.
  std::string ToString() const;
  bool operator==(const Shard&) const = default;
};

// Parses "K/N" (decimal, 0 <= K < N, 1 <= N <= kMaxShards). On error
// returns false with the cause in *why.
bool ParseShard(std::string_view text, Shard* out, std::string* why);

// The shard of `rel`, a file's name relative to --input ('/'-separated
// below subdirectories), among `count` (>= 1): the first 8 bytes of the
// SHA-256 of the name's bytes, read as a big-endian uint64, modulo
// `count`. The function is part of the on-disk contract: hosts running
// different versions must agree on it, so it never changes.
uint32_t ShardOf(std::string_view rel, uint32_t count);

// The name whose shard a staging entry goes with: a sidecar "X.ok" and an
// uploader's temporary "X.tmp", "X.part" or "X.swp" go with X, so the
// instance that ingests X is the one that waits for them. Any other name
// goes with itself.
std::string_view ShardOwnerName(std::string_view name);

// Whether `shard` takes the file staged at the absolute `source` inside
// `input` (a manifest record's source): always, without --shard.
bool ShardTakes(const Shard& shard, std::string_view input, std::string_view source);

}  // namespace ingest
