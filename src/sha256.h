#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "env.h"

namespace ingest {

// Streaming SHA-256 over OpenSSL's EVP interface. Not thread-safe; use one
// per thread.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Returns the digest as 64 lowercase hex digits and resets for reuse.
  std::string FinishHex();

  static std::string HexOf(std::string_view data);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when `s` is 64 hex digits (either case).
bool IsSha256Hex(std::string_view s);

// The sha256 of the file at the absolute `path`, opened from "/" with
// O_NOFOLLOW on its last component only (a symlink there is refused).
Status HashPath(Env* env, const std::string& path, std::string* sha);

}  // namespace ingest
