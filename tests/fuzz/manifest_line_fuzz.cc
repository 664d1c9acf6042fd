// ParseManifestLine reads manifests that readers and recovery trust: any
// bytes must be accepted or refused without a crash, and a record it
// accepts must survive FormatManifestLine and a second parse unchanged.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "manifest.h"
#include "name_escape.h"

namespace {

bool SameRecord(const ingest::ManifestRecord& a, const ingest::ManifestRecord& b) {
  return a.path == b.path && a.source == b.source && a.sha256 == b.sha256 &&
         a.device == b.device && a.inode == b.inode && a.size == b.size &&
         a.mtime_ns == b.mtime_ns && a.ingested_at == b.ingested_at;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ingest::ManifestRecord first;
  if (!ingest::ParseManifestLine(input, &first)) return 0;

  const std::string line = ingest::FormatManifestLine(first);
  // One line of strict JSON: UTF-8, a single '\n', at the end.
  FUZZ_CHECK(!line.empty() && line.back() == '\n');
  FUZZ_CHECK(line.find('\n') == line.size() - 1);
  FUZZ_CHECK(ingest::IsValidUtf8(line));

  ingest::ManifestRecord second;
  FUZZ_CHECK(ingest::ParseManifestLine(line, &second));
  FUZZ_CHECK(SameRecord(first, second));
  // Formatting is a function of the fields alone.
  FUZZ_CHECK(ingest::FormatManifestLine(second) == line);
  return 0;
}
