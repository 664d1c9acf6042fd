#include "sidecar.h"

#include <gtest/gtest.h>

#include <string>

namespace ingest {
namespace {

const std::string kLower = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUpper = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

TEST(SidecarTest, EmptySidecarCarriesNoChecksum) {
  std::string sha = "left over";
  Status s = ParseSidecar("", "a.csv", &sha);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sha, "");
}

TEST(SidecarTest, WhitespaceOnlySidecarCarriesNoChecksum) {
  for (const char* content : {" ", "\n", "\r\n", " \t \n\n", "\n\n\n"}) {
    std::string sha = "left over";
    Status s = ParseSidecar(content, "a.csv", &sha);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(sha, "");
  }
}

TEST(SidecarTest, BareLowercaseHexIsAccepted) {
  std::string sha;
  ASSERT_TRUE(ParseSidecar(kLower, "a.csv", &sha).ok());
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, BareUppercaseHexIsReturnedInLowercase) {
  std::string sha;
  ASSERT_TRUE(ParseSidecar(kUpper, "a.csv", &sha).ok());
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, TrailingNewlineAndCrlfAreAccepted) {
  for (const std::string& content : {kLower + "\n", kLower + "\r\n", kUpper + "\r\n",
                                     "  " + kLower + "  \n", "\n" + kLower, kLower + "\n\n"}) {
    std::string sha;
    Status s = ParseSidecar(content, "a.csv", &sha);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(sha, kLower);
  }
}

TEST(SidecarTest, OnlyTheFirstLineCounts) {
  std::string sha;
  ASSERT_TRUE(ParseSidecar(kLower + "\nanything else\n", "a.csv", &sha).ok());
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, Sha256sumTextLineIsAccepted) {
  std::string sha;
  Status s = ParseSidecar(kLower + "  a.csv\n", "a.csv", &sha);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, Sha256sumBinaryLineIsAccepted) {
  std::string sha;
  Status s = ParseSidecar(kUpper + " *a.csv\r\n", "a.csv", &sha);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, Sha256sumLineWithPathPrefixMatchesOnLastComponent) {
  std::string sha;
  ASSERT_TRUE(ParseSidecar(kLower + "  /data/out/a.csv\n", "a.csv", &sha).ok());
  EXPECT_EQ(sha, kLower);
  ASSERT_TRUE(ParseSidecar(kLower + " *./sub/a.csv", "a.csv", &sha).ok());
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, Sha256sumLineWithoutExpectedNameAcceptsAnyName) {
  std::string sha;
  ASSERT_TRUE(ParseSidecar(kLower + "  whatever.bin", "", &sha).ok());
  EXPECT_EQ(sha, kLower);
}

TEST(SidecarTest, Sha256sumLineNamingAnotherFileIsCorruption) {
  std::string sha = "left over";
  Status s = ParseSidecar(kLower + "  b.csv\n", "a.csv", &sha);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("b.csv"), std::string::npos) << s.message();
  EXPECT_EQ(sha, "");
  // A directory named like the file does not count.
  EXPECT_TRUE(ParseSidecar(kLower + "  a.csv/b.csv", "a.csv", &sha).IsCorruption());
  // Nor does a name that only starts like it.
  EXPECT_TRUE(ParseSidecar(kLower + "  a.csv.gz", "a.csv", &sha).IsCorruption());
}

TEST(SidecarTest, GarbageIsCorruption) {
  for (const std::string& content :
       {std::string("hello"), std::string("OK\n"), std::string(64, 'g'),
        std::string(64, 'z') + "  a.csv", std::string("sha256:") + kLower}) {
    std::string sha = "left over";
    Status s = ParseSidecar(content, "a.csv", &sha);
    EXPECT_TRUE(s.IsCorruption()) << content;
    EXPECT_FALSE(s.message().empty());
    EXPECT_EQ(sha, "");
  }
}

TEST(SidecarTest, ShortHexIsCorruption) {
  std::string sha;
  EXPECT_TRUE(ParseSidecar(kLower.substr(0, 63), "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower.substr(0, 63) + "\n", "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower.substr(0, 40), "a.csv", &sha).IsCorruption());  // a SHA-1
  EXPECT_TRUE(ParseSidecar(kLower.substr(0, 63) + "  a.csv", "a.csv", &sha).IsCorruption());
}

TEST(SidecarTest, LongHexIsCorruption) {
  std::string sha;
  EXPECT_TRUE(ParseSidecar(kLower + "0", "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower + kLower, "a.csv", &sha).IsCorruption());  // a SHA-512
}

TEST(SidecarTest, MalformedSha256sumSeparatorIsCorruption) {
  std::string sha;
  EXPECT_TRUE(ParseSidecar(kLower + " a.csv", "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower + "\ta.csv", "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower + "x", "a.csv", &sha).IsCorruption());
  EXPECT_TRUE(ParseSidecar(kLower + "**a.csv", "a.csv", &sha).IsCorruption());
}

}  // namespace
}  // namespace ingest
