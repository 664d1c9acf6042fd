// KnownNames: never forgets a name it listed or was given, rarely claims
// one it was not, and lists a directory only up to the number of names it
// is allowed.

#include "known_names.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "env.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

std::string Name(int i) { return "f" + std::to_string(i) + ".csv"; }

TEST(KnownNamesTest, AnEmptySetKnowsNoName) {
  KnownNames names;
  EXPECT_FALSE(names.MayHave("a.csv"));
  EXPECT_FALSE(names.MayHave(""));
  EXPECT_EQ(0u, names.size());
}

TEST(KnownNamesTest, EveryAddedNameIsKnownAcrossLayersAndFewOthersAre) {
  KnownNames names;
  // Enough to grow several layers.
  constexpr int kAdded = 100000;
  for (int i = 0; i < kAdded; ++i) names.Add(Name(i));
  EXPECT_EQ(static_cast<size_t>(kAdded), names.size());
  for (int i = 0; i < kAdded; ++i) ASSERT_TRUE(names.MayHave(Name(i))) << Name(i);
  int false_positives = 0;
  for (int i = kAdded; i < 2 * kAdded; ++i) false_positives += names.MayHave(Name(i));
  // Each is one stat more; the design is under 1%.
  EXPECT_LT(false_positives, kAdded / 100);
}

TEST(KnownNamesTest, ListReadsEveryNameOfADirectory) {
  TempRoot tmp("known_names_test");
  for (int i = 0; i < 300; ++i) WriteFile(tmp.path() / Name(i), "x");
  File dir;
  ASSERT_TRUE(Env::Default()->OpenDir(tmp.path().string(), &dir).ok());
  KnownNames names;
  bool complete = false;
  Status s = KnownNames::List(Env::Default(), dir, 300, &names, &complete);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(complete);
  EXPECT_EQ(300u, names.size());
  for (int i = 0; i < 300; ++i) EXPECT_TRUE(names.MayHave(Name(i))) << Name(i);
}

TEST(KnownNamesTest, ADirectoryWithMoreNamesThanAllowedIsNotComplete) {
  TempRoot tmp("known_names_test");
  for (int i = 0; i < 301; ++i) WriteFile(tmp.path() / Name(i), "x");
  File dir;
  ASSERT_TRUE(Env::Default()->OpenDir(tmp.path().string(), &dir).ok());
  KnownNames names;
  bool complete = true;
  Status s = KnownNames::List(Env::Default(), dir, 300, &names, &complete);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(complete);
}

}  // namespace
}  // namespace ingest
