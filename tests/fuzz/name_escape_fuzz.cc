// File names are arbitrary bytes. EscapeName must turn any of them into
// UTF-8 that UnescapeName maps back exactly, and Printable must never let a
// control character reach a log line or two names print alike.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "name_escape.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const std::string a = in.ConsumeRandomLengthString(size);
  const std::string b = in.ConsumeRemainingBytesAsString();

  for (const std::string* name : {&a, &b}) {
    const std::string escaped = ingest::EscapeName(*name);
    FUZZ_CHECK(ingest::IsValidUtf8(escaped));
    std::string back;
    FUZZ_CHECK(ingest::UnescapeName(escaped, &back));
    FUZZ_CHECK(back == *name);
    if (ingest::IsValidUtf8(*name) && name->find('\\') == std::string::npos) {
      FUZZ_CHECK(escaped == *name);
    }

    const std::string printable = ingest::Printable(*name);
    FUZZ_CHECK(ingest::IsValidUtf8(printable));
    for (char c : printable) {
      FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);
      FUZZ_CHECK(c != 0x7f);
    }

    // Arbitrary bytes as an escaped name: refused or decoded, never a crash.
    std::string unescaped;
    (void)ingest::UnescapeName(*name, &unescaped);
  }
  if (a != b) FUZZ_CHECK(ingest::Printable(a) != ingest::Printable(b));
  return 0;
}
