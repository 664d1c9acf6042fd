#include "sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace ingest {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
  const EVP_MD* md = nullptr;
};

namespace {

// An OpenSSL failure here means a broken library or out of memory; there is
// no sensible way to ingest on, so it is a fatal internal error.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  impl_->md = EVP_sha256();
  if (impl_->ctx == nullptr) std::abort();
  Check(EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr));
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(std::string_view data) {
  Check(EVP_DigestUpdate(impl_->ctx, data.data(), data.size()));
}

std::string Sha256::FinishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(impl_->ctx, digest, &len));
  Check(EVP_DigestInit_ex(impl_->ctx, impl_->md, nullptr));
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
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
