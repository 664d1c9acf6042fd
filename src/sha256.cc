#include "sha256.h"

// The one-shot SHA256_* functions are deprecated in OpenSSL 3 in favour of
// EVP, but they run the same code (SHA-NI where the CPU has it) without
// EVP's provider machinery, whose first use touches about 1.7 MiB more of
// libcrypto: a tenth of a small pass's memory.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdlib>

namespace ingest {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

namespace {

// An OpenSSL failure here means a broken library or out of memory; there is
// no sensible way to ingest on, so it is a fatal internal error.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { Check(SHA256_Init(&impl_->ctx)); }

Sha256::~Sha256() = default;

void Sha256::Update(std::string_view data) {
  Check(SHA256_Update(&impl_->ctx, data.data(), data.size()));
}

std::string Sha256::FinishHex() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Check(SHA256_Final(digest, &impl_->ctx));
  Check(SHA256_Init(&impl_->ctx));
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string Sha256::HexOf(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinishHex();
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace ingest
