#include "sidecar.h"

#include <cctype>

#include "sha256.h"

namespace ingest {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Status ParseSidecar(std::string_view content, std::string_view expected_name, std::string* sha256) {
  sha256->clear();
  size_t start = 0;
  while (start < content.size() && IsSpace(content[start])) ++start;
  if (start == content.size()) return Status::OK();

  std::string_view line = content.substr(start);
  size_t eol = line.find('\n');
  if (eol != std::string_view::npos) line = line.substr(0, eol);
  while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);

  if (line.size() < 64 || !IsSha256Hex(line.substr(0, 64))) {
    return Status::Corruption("does not start with a 64-digit SHA-256");
  }
  std::string_view rest = line.substr(64);
  if (!rest.empty()) {
    // sha256sum's format: two spaces, or a space and '*' for binary mode.
    if (rest.size() < 3 || rest[0] != ' ' || (rest[1] != ' ' && rest[1] != '*')) {
      return Status::Corruption("holds text after the SHA-256 that is not a sha256sum line");
    }
    std::string_view name = rest.substr(2);
    // sha256sum may print a path; only its last component has to match.
    size_t slash = name.rfind('/');
    if (slash != std::string_view::npos) name = name.substr(slash + 1);
    if (!expected_name.empty() && name != expected_name) {
      return Status::Corruption("names another file (" + std::string(name) + ")");
    }
  }
  *sha256 = Lower(line.substr(0, 64));
  return Status::OK();
}

}  // namespace ingest
