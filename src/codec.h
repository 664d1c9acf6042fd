#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace ingest {

// The byte encoding of state records: unsigned LEB128 varints, zigzag
// signed varints, and length-prefixed strings. Decoding never reads past the
// input and reports malformed input by returning false.
class Encoder {
 public:
  Encoder() = default;
  // Appends to `buf`, whose capacity is reused.
  explicit Encoder(std::string buf) : out_(std::move(buf)) {}

  void PutVarint(uint64_t v);
  void PutSigned(int64_t v);
  void PutString(std::string_view s);
  void PutBool(bool b) { PutVarint(b ? 1 : 0); }
  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  std::string out_;
};

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool GetVarint(uint64_t* v);
  bool GetSigned(int64_t* v);
  bool GetString(std::string* s);
  bool GetBool(bool* b);
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace ingest
