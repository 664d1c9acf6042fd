#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ingest {

// Splits the text of --exec into an argv, once, when the flags are
// validated. The command is never given to a shell, so nothing is
// expanded: no variables, globs, tildes, command substitution or
// redirection. Only the grouping rules of the POSIX shell apply:
//   - words are separated by runs of spaces, tabs and newlines;
//   - '...' keeps everything up to the next ' literally;
//   - "..." keeps everything literally, except that a backslash before
//     " \ $ ` or a newline stands for that character;
//   - outside quotes, a backslash stands for the character after it;
//   - quotes may join parts into one word (a'b'"c" is abc), and '' or ""
//     alone is an empty word.
// Returns false with one sentence in *err for an unbalanced quote, a
// trailing backslash, a command without words or an empty program name.
bool SplitCommand(std::string_view text, std::vector<std::string>* argv, std::string* err);

}  // namespace ingest
