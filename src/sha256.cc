#include "sha256.h"

// The one-shot SHA256_* functions are deprecated in OpenSSL 3 in favour of
// EVP, but they run the same code (SHA-NI where the CPU has it) without
// EVP's provider machinery, whose first use touches about 1.7 MiB more of
// libcrypto: a tenth of a small pass's memory.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <fcntl.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <vector>

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
  thread_local Sha256 h;  // a context per call would cost more than a short hash
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

Status HashPath(Env* env, const std::string& path, std::string* sha) {
  File root;
  Status s = env->OpenDir("/", &root);
  if (!s.ok()) return s;
  File f;
  s = env->OpenAt(root, path.substr(1), O_RDONLY | O_NONBLOCK, 0, &f);
  if (!s.ok()) return s;
  Sha256 h;
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t got = 0;
    s = env->Read(f, buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    if (got == 0) break;
    h.Update(std::string_view(buf.data(), got));
  }
  *sha = h.FinishHex();
  return Status::OK();
}

}  // namespace ingest
