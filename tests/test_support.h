#pragma once

// Set-up shared by the unit tests: a temporary root, whole-file reads and
// writes, and Options pointing at roots under a directory.

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "options.h"

namespace ingest {

// A fresh directory "<parent><prefix>.XXXXXX", removed with everything in it
// when this object dies. Declare it before any member that keeps files open
// under it, so that those close first. path() has its symlinks resolved, so
// it compares equal to the paths the code under test canonicalizes.
class TempRoot {
 public:
  explicit TempRoot(const std::string& prefix, const std::string& parent = ::testing::TempDir()) {
    std::string tmpl = parent + prefix + ".XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      // A test cannot run without its root; there is nothing to clean up.
      ::perror(("mkdtemp " + tmpl).c_str());
      ::abort();
    }
    path_ = std::filesystem::canonical(tmpl);
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The whole content of `p`; empty when it cannot be read.
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Creates or truncates `p` and writes `content` to it.
inline void WriteFile(const std::filesystem::path& p, std::string_view content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
}

// Options for passes over roots under `base`: input "in", warehouse "wh",
// manifests "mf", state "state", files stable at once. Creates nothing.
inline Options OptionsUnder(const std::filesystem::path& base) {
  Options o;
  o.input = (base / "in").string();
  o.warehouse = (base / "wh").string();
  o.manifests = (base / "mf").string();
  o.state_path = (base / "state").string();
  o.stability_seconds = 0;
  return o;
}

}  // namespace ingest
