#include "warehouse.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "name_escape.h"

namespace ingest {
namespace {

constexpr int64_t kSec = kNanosPerSecond;
const std::string kSha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(WarehouseTest, PartitionDirIsTheUtcDate) {
  // 2024-02-29T23:59:59Z: late in the day, still the 29th in UTC.
  UtcTime t(int64_t{1709251199} * kSec);
  EXPECT_EQ(PartitionDir(t), "ingest_date=2024-02-29");
  EXPECT_EQ(PartitionDir(UtcTime(0)), "ingest_date=1970-01-01");
}

TEST(WarehouseTest, DuplicatesDirIsOutsideThePartitionGlob) {
  UtcTime t(int64_t{1709251199} * kSec);
  const std::string dir = DuplicatesDir(t);
  EXPECT_EQ(dir, "_duplicates/ingest_date=2024-02-29");
  // Readers glob "ingest_date=*/" at the root.
  EXPECT_NE(dir.rfind("ingest_date=", 0), 0u);
}

TEST(WarehouseTest, CollisionNameGoesBeforeTheExtension) {
  EXPECT_EQ(CollisionName("a.csv", kSha, 12), "a.0123456789ab.csv");
}

TEST(WarehouseTest, CollisionNameKeepsACompoundExtensionTogether) {
  EXPECT_EQ(CollisionName("a.csv.gz", kSha, 12), "a.0123456789ab.csv.gz");
  EXPECT_EQ(CollisionName("data.tar.gz", kSha, 12), "data.0123456789ab.tar.gz");
}

TEST(WarehouseTest, CollisionNameWithoutExtensionAppendsTheTag) {
  EXPECT_EQ(CollisionName("README", kSha, 12), "README.0123456789ab");
}

TEST(WarehouseTest, CollisionNameOfALeadingDotNameTreatsTheDotAsPartOfTheStem) {
  EXPECT_EQ(CollisionName(".env", kSha, 12), ".env.0123456789ab");
  EXPECT_EQ(CollisionName(".env.local", kSha, 12), ".env.0123456789ab.local");
}

TEST(WarehouseTest, CollisionNameWithFullShaUsesAll64Digits) {
  EXPECT_EQ(CollisionName("a.csv", kSha, 64), "a." + kSha + ".csv");
  // Asking for more digits than there are takes them all.
  EXPECT_EQ(CollisionName("a.csv", kSha, 100), "a." + kSha + ".csv");
}

TEST(WarehouseTest, CollisionNameIsDeterministic) {
  EXPECT_EQ(CollisionName("report.csv", kSha, 12), CollisionName("report.csv", kSha, 12));
  const std::string other = "f" + kSha.substr(1);
  EXPECT_NE(CollisionName("report.csv", kSha, 12), CollisionName("report.csv", other, 12));
}

TEST(WarehouseTest, CollisionNameOfA255ByteNameStaysWithin255Bytes) {
  const std::string stem_only(255, 's');
  const std::string with_ext = std::string(251, 's') + ".csv";
  for (const std::string& name : {stem_only, with_ext}) {
    for (size_t sha_chars : {size_t{12}, size_t{64}}) {
      const std::string out = CollisionName(name, kSha, sha_chars);
      EXPECT_LE(out.size(), kMaxNameBytes) << name.size() << " " << sha_chars;
      EXPECT_NE(out.find("." + kSha.substr(0, sha_chars)), std::string::npos);
      EXPECT_EQ(out.front(), 's');
      EXPECT_NE(out, name);
    }
  }
  // The extension survives; the stem is what gets shorter.
  const std::string out = CollisionName(with_ext, kSha, 12);
  EXPECT_EQ(out.size(), kMaxNameBytes);
  EXPECT_EQ(out, std::string(238, 's') + ".0123456789ab.csv");
}

TEST(WarehouseTest, CollisionNameWithAHugeExtensionStaysWithin255Bytes) {
  // "a" followed by a 254-byte extension leaves no room for the tag unless
  // the extension is cut.
  const std::string name = "a." + std::string(253, 'e');
  ASSERT_EQ(name.size(), 255u);
  for (size_t sha_chars : {size_t{12}, size_t{64}}) {
    const std::string out = CollisionName(name, kSha, sha_chars);
    EXPECT_LE(out.size(), kMaxNameBytes);
    EXPECT_EQ(out.rfind("a." + kSha.substr(0, sha_chars) + ".", 0), 0u) << out;
  }
}

TEST(WarehouseTest, ShortenedCollisionNameDoesNotSplitAUtf8Character) {
  // Two-byte characters after one ASCII byte: cutting the stem where the
  // room runs out would leave half a character and turn a UTF-8 name into
  // one that is not.
  std::string no_ext = "x";
  for (int i = 0; i < 127; ++i) no_ext += "\xC3\xA9";
  std::string with_ext = "x";
  for (int i = 0; i < 125; ++i) with_ext += "\xC3\xA9";
  with_ext += ".csv";
  for (const std::string& name : {no_ext, with_ext}) {
    ASSERT_EQ(name.size(), 255u);
    ASSERT_TRUE(IsValidUtf8(name));
    for (size_t sha_chars : {size_t{12}, size_t{64}}) {
      const std::string out = CollisionName(name, kSha, sha_chars);
      EXPECT_LE(out.size(), kMaxNameBytes);
      EXPECT_TRUE(IsValidUtf8(out)) << out;
    }
  }
}

TEST(WarehouseTest, ShortenedExtensionDoesNotSplitAUtf8Character) {
  std::string ext = ".x";
  for (int i = 0; i < 126; ++i) ext += "\xC3\xA9";
  const std::string name = "a" + ext;
  ASSERT_TRUE(IsValidUtf8(name));
  for (size_t sha_chars : {size_t{12}, size_t{64}}) {
    const std::string out = CollisionName(name, kSha, sha_chars);
    EXPECT_LE(out.size(), kMaxNameBytes);
    EXPECT_TRUE(IsValidUtf8(out)) << out;
  }
}

TEST(WarehouseTest, ShortenedNonUtf8NameIsCutAtTheLimit) {
  // Bytes that are no UTF-8 at all have no character boundary to respect;
  // the name is still cut to fit and keeps a stem.
  const std::string name(255, '\x80');
  for (size_t sha_chars : {size_t{12}, size_t{64}}) {
    const std::string out = CollisionName(name, kSha, sha_chars);
    EXPECT_EQ(out.size(), kMaxNameBytes);
    EXPECT_EQ(out.front(), '\x80');
  }
}

TEST(WarehouseTest, ShortenedFourByteCharactersStayWhole) {
  std::string name = "abc";
  for (int i = 0; i < 62; ++i) name += "\xF0\x9F\x98\x80";  // U+1F600
  name += ".csv";
  ASSERT_EQ(name.size(), 255u);
  for (size_t sha_chars : {size_t{12}, size_t{64}}) {
    const std::string out = CollisionName(name, kSha, sha_chars);
    // Three bytes short of the limit: the last character did not fit whole.
    EXPECT_EQ(out.size(), kMaxNameBytes - 3);
    EXPECT_TRUE(IsValidUtf8(out));
    EXPECT_EQ(out.substr(out.size() - 4), ".csv");
  }
}

}  // namespace
}  // namespace ingest
