#include "name_escape.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace ingest {
namespace {

using namespace std::string_literals;

TEST(NameEscapeTest, AsciiAndWellFormedMultibyteAreValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain.csv"));
  EXPECT_TRUE(IsValidUtf8("\0"s));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9"));       // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));      // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the largest
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, above surrogates
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
}

TEST(NameEscapeTest, OverlongFormsAreNotValidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // U+007F in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // NUL in two bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(NameEscapeTest, SurrogatesAreNotValidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair
}

TEST(NameEscapeTest, CodePointsAboveTheUnicodeRangeAreNotValidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));          // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF7\xBF\xBF\xBF"));          // U+1FFFFF
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));      // five-byte form
  EXPECT_FALSE(IsValidUtf8("\xFC\x84\x80\x80\x80\x80"));  // six-byte form
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(NameEscapeTest, TruncatedAndBrokenSequencesAreNotValidUtf8) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("a\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98z"));  // ends early, then ASCII
  EXPECT_FALSE(IsValidUtf8("\x80"));           // lone continuation byte
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9\xA9"));   // one continuation too many
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));   // second byte not a continuation
}

TEST(NameEscapeTest, ValidUtf8WithoutBackslashIsUnchanged) {
  for (const std::string& s :
       {""s, "a.csv"s, "caf\xC3\xA9 \xF0\x9F\x98\x80.txt"s, "line\nbreak\t\x01"s, "\0"s}) {
    EXPECT_EQ(EscapeName(s), s);
  }
}

TEST(NameEscapeTest, InvalidBytesBecomeLowercaseHexEscapes) {
  EXPECT_EQ(EscapeName("a\xFF"
                       "b"),
            "a\\xffb");
  EXPECT_EQ(EscapeName("\xC3"), "\\xc3");
  // Only the bytes that break the sequence are escaped; the rest stays.
  EXPECT_EQ(EscapeName("\xC3\xA9\xC3"), "\xC3\xA9\\xc3");
  EXPECT_EQ(EscapeName("\xED\xA0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(EscapeName("\xC0\xAF"), "\\xc0\\xaf");
}

TEST(NameEscapeTest, BackslashIsDoubled) {
  EXPECT_EQ(EscapeName("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeName("\\x41"), "\\\\x41");
  EXPECT_EQ(EscapeName("\\"), "\\\\");
  std::string back;
  ASSERT_TRUE(UnescapeName("\\\\x41", &back));
  EXPECT_EQ(back, "\\x41");
}

TEST(NameEscapeTest, LiteralEscapeTextAndTheByteItStandsForStayDistinct) {
  // "\xff" typed as four characters and the single byte 0xFF.
  const std::string text = "\\xff";
  const std::string byte = "\xFF";
  EXPECT_NE(EscapeName(text), EscapeName(byte));
  std::string back;
  ASSERT_TRUE(UnescapeName(EscapeName(text), &back));
  EXPECT_EQ(back, text);
  ASSERT_TRUE(UnescapeName(EscapeName(byte), &back));
  EXPECT_EQ(back, byte);
}

TEST(NameEscapeTest, RandomByteStringsRoundTrip) {
  std::mt19937_64 rng(20240601);
  // Bias towards bytes that make interesting UTF-8: ASCII, backslash,
  // continuation bytes and lead bytes.
  const uint8_t interesting[] = {'a',  '\\', 'x',  '0',  0x00, 0x0A, 0x7F, 0x80, 0xBF,
                                 0xC2, 0xC0, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF};
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t len = rng() % 24;
    std::string name;
    for (size_t i = 0; i < len; ++i) {
      if (rng() % 2 == 0) {
        name += static_cast<char>(interesting[rng() % sizeof interesting]);
      } else {
        name += static_cast<char>(rng() & 0xFF);
      }
    }
    const std::string escaped = EscapeName(name);
    ASSERT_TRUE(IsValidUtf8(escaped)) << "iteration " << iter;
    std::string back = "junk";
    ASSERT_TRUE(UnescapeName(escaped, &back)) << "iteration " << iter;
    ASSERT_EQ(back, name) << "iteration " << iter;
  }
}

TEST(NameEscapeTest, EveryByteValueRoundTripsAlone) {
  for (int b = 0; b < 256; ++b) {
    const std::string name(1, static_cast<char>(b));
    std::string back;
    ASSERT_TRUE(UnescapeName(EscapeName(name), &back)) << b;
    EXPECT_EQ(back, name) << b;
  }
}

TEST(NameEscapeTest, UnescapeAcceptsTextWithoutEscapes) {
  std::string out = "junk";
  ASSERT_TRUE(UnescapeName("", &out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(UnescapeName("plain \xC3\xA9", &out));
  EXPECT_EQ(out, "plain \xC3\xA9");
}

TEST(NameEscapeTest, MalformedEscapesAreRejected) {
  std::string out;
  EXPECT_FALSE(UnescapeName("\\", &out));  // dangling backslash
  EXPECT_FALSE(UnescapeName("abc\\", &out));
  EXPECT_FALSE(UnescapeName("\\x", &out));   // no digits
  EXPECT_FALSE(UnescapeName("\\x4", &out));  // one digit
  EXPECT_FALSE(UnescapeName("a\\x4", &out));
  EXPECT_FALSE(UnescapeName("\\xg0", &out));  // not hex
  EXPECT_FALSE(UnescapeName("\\x0g", &out));
  EXPECT_FALSE(UnescapeName("\\x-1", &out));
  EXPECT_FALSE(UnescapeName("\\n", &out));  // unknown escape
  EXPECT_FALSE(UnescapeName("\\u00e9", &out));
  EXPECT_FALSE(UnescapeName("\\X41", &out));
}

TEST(NameEscapeTest, UnescapeDecodesHexAtTheEnd) {
  std::string out;
  ASSERT_TRUE(UnescapeName("ab\\x00", &out));
  EXPECT_EQ(out, "ab\0"s);
  ASSERT_TRUE(UnescapeName("\\xff\\xfe", &out));
  EXPECT_EQ(out, "\xFF\xFE");
}

TEST(NameEscapeTest, PrintableLeavesPlainTextAlone) {
  EXPECT_EQ(Printable(""), "");
  EXPECT_EQ(Printable("/staging/a b.csv"), "/staging/a b.csv");
  EXPECT_EQ(Printable("caf\xC3\xA9"), "caf\xC3\xA9");
}

TEST(NameEscapeTest, PrintableEscapesNewlineAndControlCharacters) {
  EXPECT_EQ(Printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(Printable("a\rb"), "a\\x0db");
  EXPECT_EQ(Printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(Printable("tab\there"), "tab\\x09here");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(Printable("nul\0"s), "nul\\x00");
}

TEST(NameEscapeTest, PrintableEscapesInvalidUtf8) {
  EXPECT_EQ(Printable("a\xFF"), "a\\xff");
  // Valid multibyte characters next to an invalid byte survive.
  EXPECT_EQ(Printable("\xC3\xA9\xFF"), "\xC3\xA9\\xff");
}

TEST(NameEscapeTest, PrintableOutputIsOneLineOfValidUtf8) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 5000; ++iter) {
    std::string text;
    const size_t len = rng() % 32;
    for (size_t i = 0; i < len; ++i) text += static_cast<char>(rng() & 0xFF);
    const std::string p = Printable(text);
    ASSERT_TRUE(IsValidUtf8(p)) << iter;
    for (char c : p) {
      ASSERT_TRUE(static_cast<uint8_t>(c) >= 0x20 && c != 0x7f) << iter;
    }
  }
}

TEST(NameEscapeTest, PrintableOfEscapedTextUnescapesBack) {
  // Once Printable escapes anything, it doubles backslashes too, so the
  // message can be decoded.
  const std::string text = "a\\b\n\xFF";
  std::string back;
  ASSERT_TRUE(UnescapeName(Printable(text), &back));
  EXPECT_EQ(back, text);
}

}  // namespace
}  // namespace ingest
