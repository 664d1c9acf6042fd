#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "env.h"

namespace ingest {

// One manifest file of a manifest tree.
struct ManifestFile {
  std::string hour;  // "YYYY/MM/DD/HH", below the root
  File file;         // open for reading
};

// The manifest files below a manifest root, <root>/YYYY/MM/DD/HH/
// manifest.jsonl, in hour order: the one walk of the tree for every
// command that reads manifests. Only directories named by digits are
// entered (never lost+found, say), and their names sort as text, which for
// these fixed-width numbers is time order. Hours without a manifest file
// are passed over.
class ManifestTree {
 public:
  enum class Order { kOldestFirst, kNewestFirst };
  // Whether the hour "YYYY/MM/DD/HH" is wanted; its file is not even
  // opened otherwise.
  using HourFilter = std::function<bool(std::string_view hour)>;

  // `root` must outlive the walk.
  ManifestTree(Env* env, const File& root, Order order = Order::kOldestFirst,
               HourFilter wanted = nullptr);

  // The next manifest file, or `*done` at the end. An error names the
  // directory or file that could not be read; the walk can go on past it
  // with the next call.
  Status Next(ManifestFile* out, bool* done);

 private:
  struct Level {
    File dir;
    std::string rel;
    std::vector<std::string> names;  // subdirectories, in walk order
    size_t next = 0;
  };

  Env* env_;
  const File& root_;
  const Order order_;
  const HourFilter wanted_;
  bool started_ = false;
  std::vector<Level> stack_;  // from the root down to an hour
};

// One line of a manifest file.
struct ManifestLine {
  uint64_t number = 0;    // from 1
  std::string_view text;  // without its '\n'; valid until the next call
};

// Reads the complete lines of one manifest file in order, by offset, so
// that it also reads a file open for appending. A last line without its
// '\n' is a torn tail, never a record: it is not returned, and torn_tail()
// says whether there was one.
class ManifestLineReader {
 public:
  // `file` must outlive the reader.
  ManifestLineReader(Env* env, const File& file) : env_(env), file_(file) {}

  // The next complete line, or `*done` at the end of the file.
  Status Next(ManifestLine* out, bool* done);
  // Calls `fn` on each line left, to the end; an error of the read or of
  // `fn` ends it.
  Status ForEach(const std::function<Status(const ManifestLine&)>& fn);
  // At the end: whether the file ends in an incomplete line, and its text.
  bool torn_tail() const { return torn_tail_; }
  std::string_view tail() const { return std::string_view(buf_).substr(start_); }

 private:
  Env* env_;
  const File& file_;
  std::string buf_;
  size_t start_ = 0;  // of the next line in buf_
  uint64_t offset_ = 0;
  uint64_t number_ = 0;
  bool eof_ = false;
  bool torn_tail_ = false;
};

}  // namespace ingest
