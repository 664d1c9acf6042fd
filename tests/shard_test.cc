#include "shard.h"

#include <gtest/gtest.h>

#include <string>

namespace ingest {
namespace {

// The shard of each name for N = 2, 3, 7 and 1024, computed apart from
// this code (Python's hashlib: int.from_bytes(sha256(name).digest()[:8],
// "big") % N). Hosts running different versions must agree on every one:
// a change here moves files between shards.
struct Expected {
  const char* name;
  uint32_t of2, of3, of7, of1024;
};

constexpr Expected kTable[] = {
    {"a", 0, 1, 4, 458},
    {"b.csv", 0, 2, 1, 238},
    {"data.csv", 1, 0, 6, 739},
    {"report 2026-11-22.csv", 1, 0, 5, 995},
    {"name with  two spaces.log", 0, 0, 1, 616},
    {"Makefile", 0, 1, 6, 64},
    {"README", 0, 2, 0, 414},
    {"noext.", 0, 2, 2, 622},
    {"archive.tar.gz", 1, 1, 0, 651},
    {"x", 0, 0, 1, 68},
    {"sub/file.csv", 0, 2, 6, 696},
    {"a/b/c/d.json", 0, 2, 1, 238},
    {"2026/11/22/events-0001.jsonl", 0, 2, 5, 776},
    {"h\xc3\xa9llo.txt", 0, 2, 5, 980},                          // héllo.txt
    {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.csv", 1, 1, 3, 977},  // 日本語.csv
    {"emoji-\xf0\x9f\x98\x80.bin", 0, 0, 2, 810},
    // Ünïcödé/naïve café.txt
    {"\xc3\x9cn\xc3\xaf"
     "c\xc3\xb6"
     "d\xc3\xa9/na\xc3\xafve caf\xc3\xa9.txt",
     0, 0, 1, 656},
    {"-leading-dash", 1, 0, 6, 197},
    {"trailing space ", 0, 1, 5, 166},
    {"UPPER.CSV", 0, 0, 4, 28},
    {"123", 1, 0, 5, 925},
    {"deep/nested dir/with space/file 1.dat", 1, 2, 1, 607},
    {"\xff\xfe.bin", 0, 1, 1, 642},  // not UTF-8: the bytes as they are
};

TEST(ShardTest, FixedTableNeverChanges) {
  for (const Expected& e : kTable) {
    SCOPED_TRACE(e.name);
    EXPECT_EQ(ShardOf(e.name, 2), e.of2);
    EXPECT_EQ(ShardOf(e.name, 3), e.of3);
    EXPECT_EQ(ShardOf(e.name, 7), e.of7);
    EXPECT_EQ(ShardOf(e.name, 1024), e.of1024);
    EXPECT_EQ(ShardOf(e.name, 1), 0u);
  }
}

TEST(ShardTest, SpreadsNamesOverEveryShard) {
  uint32_t counts[7] = {};
  for (int i = 0; i < 7000; ++i) ++counts[ShardOf("file-" + std::to_string(i) + ".csv", 7)];
  for (uint32_t c : counts) {
    EXPECT_GT(c, 850u);
    EXPECT_LT(c, 1150u);
  }
}

TEST(ShardTest, SidecarsAndTempNamesGoWithTheirFile) {
  EXPECT_EQ(ShardOwnerName("data.csv.ok"), "data.csv");
  EXPECT_EQ(ShardOwnerName("data.csv.tmp"), "data.csv");
  EXPECT_EQ(ShardOwnerName("data.csv.part"), "data.csv");
  EXPECT_EQ(ShardOwnerName("data.csv.swp"), "data.csv");
  EXPECT_EQ(ShardOwnerName("data.csv"), "data.csv");
  EXPECT_EQ(ShardOwnerName(".ok"), ".ok");
  EXPECT_EQ(ShardOwnerName(".hidden"), ".hidden");
}

TEST(ShardTest, ParsesKOfN) {
  Shard s;
  std::string why;
  ASSERT_TRUE(ParseShard("0/1", &s, &why));
  EXPECT_EQ(s, (Shard{0, 1}));
  ASSERT_TRUE(ParseShard("1023/1024", &s, &why));
  EXPECT_EQ(s, (Shard{1023, 1024}));
  EXPECT_EQ(s.ToString(), "1023/1024");
  EXPECT_EQ(Shard{}.ToString(), "");
}

TEST(ShardTest, RefusesBadValuesWithTheCause) {
  Shard s;
  std::string why;
  for (const char* bad : {"", "1", "/", "0/", "/2", "a/2", "0/b", "-1/2", "+1/2", "0/2/3", " 0/2",
                          "0/2 ", "0x1/2", "99999999999/2"}) {
    EXPECT_FALSE(ParseShard(bad, &s, &why)) << bad;
    EXPECT_NE(why.find("K/N"), std::string::npos) << bad;
  }
  EXPECT_FALSE(ParseShard("2/2", &s, &why));
  EXPECT_NE(why.find("K must be less than N"), std::string::npos);
  EXPECT_FALSE(ParseShard("0/0", &s, &why));
  EXPECT_NE(why.find("between 1 and 1024"), std::string::npos);
  EXPECT_FALSE(ParseShard("0/1025", &s, &why));
  EXPECT_NE(why.find("between 1 and 1024"), std::string::npos);
}

}  // namespace
}  // namespace ingest
