#include "codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace ingest {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

TEST(CodecTest, VarintRoundTripsAcrossTheRange) {
  const uint64_t values[] = {0,
                             1,
                             0x7F,
                             0x80,
                             0x3FFF,
                             0x4000,
                             300,
                             0xFFFFFFFF,
                             0x100000000u,
                             kU64Max - 1,
                             kU64Max,
                             1ull << 63,
                             (1ull << 63) - 1};
  Encoder e;
  for (uint64_t v : values) e.PutVarint(v);
  Decoder d(e.data());
  for (uint64_t want : values) {
    uint64_t got = 12345;
    ASSERT_TRUE(d.GetVarint(&got)) << want;
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(d.done());
}

TEST(CodecTest, VarintUsesLeb128Bytes) {
  Encoder e;
  e.PutVarint(0);
  EXPECT_EQ(e.data(), std::string(1, '\0'));
  Encoder e300;
  e300.PutVarint(300);
  EXPECT_EQ(e300.data(), "\xAC\x02");
  Encoder emax;
  emax.PutVarint(kU64Max);
  EXPECT_EQ(emax.data(), std::string(9, '\xFF') + "\x01");
}

TEST(CodecTest, SignedRoundTripsExtremes) {
  const int64_t values[] = {0, 1, -1, 63, -64, 64, -65, kI64Max, kI64Min, kI64Min + 1, kI64Max - 1};
  Encoder e;
  for (int64_t v : values) e.PutSigned(v);
  Decoder d(e.data());
  for (int64_t want : values) {
    int64_t got = 12345;
    ASSERT_TRUE(d.GetSigned(&got)) << want;
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(d.done());
}

TEST(CodecTest, SignedSmallMagnitudesTakeOneByte) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63}}) {
    Encoder e;
    e.PutSigned(v);
    EXPECT_EQ(e.data().size(), 1u) << v;
  }
  Encoder e;
  e.PutSigned(kI64Min);
  EXPECT_EQ(e.data().size(), 10u);
}

TEST(CodecTest, StringRoundTripsEmptyBinaryAndLong) {
  const std::string binary("\0\xff\n\x80 a\0", 7);
  const std::string long_string(100000, 'x');
  Encoder e;
  e.PutString("");
  e.PutString(binary);
  e.PutString(long_string);
  Decoder d(e.data());
  std::string s = "junk";
  ASSERT_TRUE(d.GetString(&s));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(d.GetString(&s));
  EXPECT_EQ(s, binary);
  ASSERT_TRUE(d.GetString(&s));
  EXPECT_EQ(s, long_string);
  EXPECT_TRUE(d.done());
}

TEST(CodecTest, BoolRoundTripsAndRejectsOtherValues) {
  Encoder e;
  e.PutBool(true);
  e.PutBool(false);
  e.PutVarint(2);
  Decoder d(e.data());
  bool b = false;
  ASSERT_TRUE(d.GetBool(&b));
  EXPECT_TRUE(b);
  ASSERT_TRUE(d.GetBool(&b));
  EXPECT_FALSE(b);
  EXPECT_FALSE(d.GetBool(&b));
}

TEST(CodecTest, EmptyInputIsRejected) {
  Decoder d("");
  EXPECT_TRUE(d.done());
  uint64_t u;
  int64_t i;
  std::string s;
  bool b;
  EXPECT_FALSE(d.GetVarint(&u));
  EXPECT_FALSE(d.GetSigned(&i));
  EXPECT_FALSE(d.GetString(&s));
  EXPECT_FALSE(d.GetBool(&b));
}

TEST(CodecTest, TruncatedVarintIsRejected) {
  Encoder e;
  e.PutVarint(kU64Max);
  const std::string full = e.data();
  for (size_t n = 0; n < full.size(); ++n) {
    Decoder d(std::string_view(full).substr(0, n));
    uint64_t v;
    EXPECT_FALSE(d.GetVarint(&v)) << "prefix of " << n << " bytes";
  }
  // A lone continuation byte.
  Decoder d("\x80");
  uint64_t v;
  EXPECT_FALSE(d.GetVarint(&v));
}

TEST(CodecTest, TruncatedSignedIsRejected) {
  Encoder e;
  e.PutSigned(kI64Min);
  const std::string full = e.data();
  Decoder d(std::string_view(full).substr(0, full.size() - 1));
  int64_t v;
  EXPECT_FALSE(d.GetSigned(&v));
}

TEST(CodecTest, VarintLongerThanTenBytesIsRejected) {
  // Eleven bytes: ten with the continuation bit set, then a terminator.
  const std::string overlong = std::string(10, '\x80') + std::string(1, '\0');
  Decoder d(overlong);
  uint64_t v;
  EXPECT_FALSE(d.GetVarint(&v));
}

TEST(CodecTest, VarintOverflowingSixtyFourBitsIsRejected) {
  // The tenth byte may only contribute bit 63.
  const std::string overflow = std::string(9, '\xFF') + "\x02";
  Decoder d(overflow);
  uint64_t v;
  EXPECT_FALSE(d.GetVarint(&v));
  const std::string max = std::string(9, '\xFF') + "\x01";
  Decoder ok(max);
  ASSERT_TRUE(ok.GetVarint(&v));
  EXPECT_EQ(v, kU64Max);
}

TEST(CodecTest, StringLongerThanRemainingInputIsRejected) {
  Encoder e;
  e.PutString("hello");
  std::string data = e.data();
  data.pop_back();
  Decoder d(data);
  std::string s;
  EXPECT_FALSE(d.GetString(&s));
}

TEST(CodecTest, StringWithHugeLengthIsRejected) {
  Encoder e;
  e.PutVarint(kU64Max);
  std::string data = e.Release() + "abc";
  Decoder d(data);
  std::string s;
  EXPECT_FALSE(d.GetString(&s));
}

TEST(CodecTest, DoneOnlyAfterAllInputIsConsumed) {
  Encoder e;
  e.PutVarint(7);
  e.PutVarint(8);
  Decoder d(e.data());
  uint64_t v;
  ASSERT_TRUE(d.GetVarint(&v));
  EXPECT_FALSE(d.done());
  ASSERT_TRUE(d.GetVarint(&v));
  EXPECT_EQ(v, 8u);
  EXPECT_TRUE(d.done());
}

}  // namespace
}  // namespace ingest
