// The state's records are read back after crashes and from databases that
// may be damaged: every decoder must refuse or accept any bytes without a
// crash, and a record it accepts must encode to bytes that decode to the
// same record. Each input is offered to every decoder.

#include <boost/pfr.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "records.h"

namespace {

// Decodes `in` as a T; when accepted, checks the round trip. Fields are
// compared one by one (boost::pfr), so a field the encoder forgets fails
// here too.
template <typename T>
void RoundTrip(std::string_view in, bool (*decode)(std::string_view, T*),
               std::string (*encode)(const T&)) {
  T first;
  if (!decode(in, &first)) return;
  const std::string bytes = encode(first);
  T second;
  FUZZ_CHECK(decode(bytes, &second));
  FUZZ_CHECK(boost::pfr::eq(first, second));
  // The encoding is canonical even when the input was not (a varint may
  // be written with redundant continuation bytes).
  FUZZ_CHECK(encode(second) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  RoundTrip<ingest::Intent>(in, ingest::DecodeIntent, ingest::EncodeIntent);
  RoundTrip<ingest::Snapshot>(in, ingest::DecodeSnapshot, ingest::EncodeSnapshot);
  RoundTrip<ingest::ContentRecord>(in, ingest::DecodeContentRecord, ingest::EncodeContentRecord);
  RoundTrip<ingest::HookRecord>(in, ingest::DecodeHookRecord, ingest::EncodeHookRecord);
  return 0;
}
