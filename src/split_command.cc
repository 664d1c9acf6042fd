#include "split_command.h"

namespace ingest {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n'; }

// Characters a backslash escapes inside double quotes (POSIX).
bool EscapableInDoubleQuotes(char c) {
  return c == '"' || c == '\\' || c == '$' || c == '`' || c == '\n';
}

}  // namespace

bool SplitCommand(std::string_view text, std::vector<std::string>* argv, std::string* err) {
  argv->clear();
  std::string word;
  bool in_word = false;  // a word has begun, possibly still empty ('')
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (IsBlank(c)) {
      if (in_word) argv->push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      const size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        *err = "unbalanced single quote at offset " + std::to_string(i);
        return false;
      }
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const size_t open = i++;
      for (;;) {
        if (i >= text.size()) {
          *err = "unbalanced double quote at offset " + std::to_string(open);
          return false;
        }
        if (text[i] == '"') break;
        if (text[i] == '\\' && i + 1 < text.size() && EscapableInDoubleQuotes(text[i + 1])) ++i;
        word += text[i++];
      }
      in_word = true;
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        *err = "a backslash at the end escapes nothing";
        return false;
      }
      word += text[i + 1];
      in_word = true;
      i += 2;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) argv->push_back(std::move(word));
  if (argv->empty()) {
    *err = "the command is empty";
    return false;
  }
  if ((*argv)[0].empty()) {
    *err = "the program name is empty";
    return false;
  }
  return true;
}

}  // namespace ingest
