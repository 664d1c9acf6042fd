#include "split_command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ingest {
namespace {

using Argv = std::vector<std::string>;

Argv Split(std::string_view text) {
  Argv argv;
  std::string err;
  EXPECT_TRUE(SplitCommand(text, &argv, &err)) << text << ": " << err;
  return argv;
}

// Expects `text` to be refused with an error containing `why`.
void ExpectRefused(std::string_view text, const std::string& why) {
  Argv argv;
  std::string err;
  EXPECT_FALSE(SplitCommand(text, &argv, &err)) << text;
  EXPECT_NE(err.find(why), std::string::npos) << "error \"" << err << "\" for " << text;
}

TEST(SplitCommandTest, BlanksSeparateWords) {
  EXPECT_EQ(Split("hook"), Argv({"hook"}));
  EXPECT_EQ(Split("  /usr/bin/hook  --flag\tvalue\nlast  "),
            Argv({"/usr/bin/hook", "--flag", "value", "last"}));
}

TEST(SplitCommandTest, SingleQuotesKeepEverything) {
  EXPECT_EQ(Split(R"(hook 'a b' '$HOME' '\n' '"')"), Argv({"hook", "a b", "$HOME", "\\n", "\""}));
}

TEST(SplitCommandTest, DoubleQuotesKeepAllButFiveEscapes) {
  EXPECT_EQ(Split(R"(hook "a b" "say \"hi\"" "back\\slash" "\$x" "\`" "\n" "\a")"),
            Argv({"hook", "a b", "say \"hi\"", "back\\slash", "$x", "`", "\\n", "\\a"}));
  EXPECT_EQ(Split("hook \"line\\\nbreak\""), Argv({"hook", "line\nbreak"}));
  EXPECT_EQ(Split(R"(hook "it's")"), Argv({"hook", "it's"}));
}

TEST(SplitCommandTest, BackslashOutsideQuotesEscapesTheNextCharacter) {
  EXPECT_EQ(Split(R"(hook a\ b \'q\' \"d\" \\ \$HOME)"),
            Argv({"hook", "a b", "'q'", "\"d\"", "\\", "$HOME"}));
}

TEST(SplitCommandTest, QuotedPartsJoinIntoOneWord) {
  EXPECT_EQ(Split(R"(hook pre'mid dle'"post"fix)"), Argv({"hook", "premid dlepostfix"}));
}

TEST(SplitCommandTest, EmptyQuotesAreEmptyWords) {
  EXPECT_EQ(Split(R"(hook '' "" x)"), Argv({"hook", "", "", "x"}));
}

TEST(SplitCommandTest, NothingIsExpanded) {
  EXPECT_EQ(Split("hook $HOME ~ *.csv $(rm -rf /) `id` ; | > x && y # z"),
            Argv({"hook", "$HOME", "~", "*.csv", "$(rm", "-rf", "/)", "`id`", ";", "|", ">", "x",
                  "&&", "y", "#", "z"}));
}

TEST(SplitCommandTest, UnbalancedQuotesAreRefused) {
  ExpectRefused("hook 'open", "unbalanced single quote at offset 5");
  ExpectRefused("hook \"open", "unbalanced double quote at offset 5");
  ExpectRefused("hook \"ends in backslash\\\"", "unbalanced double quote");
  ExpectRefused("hook '\"'\"", "unbalanced double quote");
}

TEST(SplitCommandTest, TrailingBackslashIsRefused) {
  ExpectRefused("hook \\", "backslash at the end");
}

TEST(SplitCommandTest, EmptyCommandIsRefused) {
  ExpectRefused("", "empty");
  ExpectRefused(" \t\n ", "empty");
  ExpectRefused("'' arg", "program name is empty");
}

TEST(SplitCommandTest, ResultReplacesWhatArgvHeld) {
  Argv argv = {"stale"};
  std::string err;
  ASSERT_TRUE(SplitCommand("fresh", &argv, &err)) << err;
  EXPECT_EQ(argv, Argv({"fresh"}));
}

}  // namespace
}  // namespace ingest
