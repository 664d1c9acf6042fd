// ParseSidecar reads a file an uploader wrote: any bytes must give a Status,
// never a crash, and an accepted checksum is always 64 lowercase hex digits.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "sidecar.h"

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string expected_name = in.ConsumeRandomLengthString(64);
  const std::string content = in.ConsumeRemainingBytesAsString();

  std::string sha = "not cleared";
  ingest::Status s = ingest::ParseSidecar(content, expected_name, &sha);
  if (!s.ok()) return 0;
  if (sha.empty()) {
    // No checksum only for a sidecar that is empty or all whitespace.
    for (char c : content) FUZZ_CHECK(IsSpace(c));
    return 0;
  }
  FUZZ_CHECK(sha.size() == 64);
  for (char c : sha) FUZZ_CHECK(IsLowerHex(c));
  return 0;
}
