#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clock.h"

namespace ingest {

// Where files land inside the warehouse root. Readers glob
// ingest_date=*/; duplicates and temp copies live outside that pattern.
inline constexpr std::string_view kTempDirName = ".atomic-ingest-tmp";
inline constexpr std::string_view kDuplicatesDirName = "_duplicates";
inline constexpr size_t kMaxNameBytes = 255;

// "ingest_date=YYYY-MM-DD"
std::string PartitionDir(const UtcTime& t);
// "_duplicates/ingest_date=YYYY-MM-DD"
std::string DuplicatesDir(const UtcTime& t);

// The collision name for `name`: the first `sha_chars` hex digits of the
// content's sha256 inserted before the extension ("a.csv" becomes
// "a.<sha>.csv"), shortening the stem so the result stays within 255 bytes.
// Deterministic: the same name and content always give the same result.
std::string CollisionName(std::string_view name, std::string_view sha256, size_t sha_chars);

// The collision names after the three above ("a.csv", "a.<sha12>.csv",
// "a.<sha64>.csv") are taken: "a.<sha64>-<n>.csv" for n = 2, 3, ..., so
// that names never run out.
std::string NumberedCollisionName(std::string_view name, std::string_view sha256, uint64_t n);

}  // namespace ingest
