#include "codec.h"

namespace ingest {

void Encoder::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_ += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out_ += static_cast<char>(v);
}

void Encoder::PutSigned(int64_t v) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void Encoder::PutString(std::string_view s) {
  PutVarint(s.size());
  out_.append(s);
}

bool Decoder::GetVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in_.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    result |= uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

bool Decoder::GetSigned(int64_t* v) {
  uint64_t u;
  if (!GetVarint(&u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool Decoder::GetString(std::string* s) {
  uint64_t len;
  if (!GetVarint(&len) || len > in_.size()) return false;
  s->assign(in_.substr(0, len));
  in_.remove_prefix(len);
  return true;
}

bool Decoder::GetBool(bool* b) {
  uint64_t v;
  if (!GetVarint(&v) || v > 1) return false;
  *b = v == 1;
  return true;
}

}  // namespace ingest
