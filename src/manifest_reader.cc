#include "manifest_reader.h"

#include <fcntl.h>

#include <algorithm>

#include "dir_scanner.h"
#include "fs_util.h"
#include "manifest.h"

namespace ingest {

namespace {

// Levels of directories below the root: YYYY, MM, DD and HH.
constexpr size_t kDepth = 4;
constexpr size_t kReadChunk = 1 << 16;

}  // namespace

ManifestTree::ManifestTree(Env* env, const File& root, Order order, HourFilter wanted)
    : env_(env), root_(root), order_(order), wanted_(std::move(wanted)) {}

Status ManifestTree::Next(ManifestFile* out, bool* done) {
  *done = false;
  auto push = [&](File dir, std::string rel) {
    Level level{std::move(dir), std::move(rel), {}, 0};
    Status s = ListSubdirectories(env_, level.dir, &level.names);
    std::erase_if(level.names, [](const std::string& name) {
      return name.find_first_not_of("0123456789") != std::string::npos;
    });
    if (order_ == Order::kNewestFirst) std::reverse(level.names.begin(), level.names.end());
    if (s.ok()) stack_.push_back(std::move(level));
    return s;
  };
  if (!started_) {
    started_ = true;
    File root;
    Status s = env_->OpenDirAt(root_, ".", &root);
    if (s.ok()) s = push(File(root.TakeFd(), root_.path()), "");
    if (!s.ok()) return s;
  }
  while (!stack_.empty()) {
    Level& top = stack_.back();
    if (top.next == top.names.size()) {
      stack_.pop_back();
      continue;
    }
    const std::string& name = top.names[top.next++];
    const std::string rel = JoinPath(top.rel, name);
    const bool hour = stack_.size() == kDepth;
    if (hour && wanted_ && !wanted_(rel)) continue;
    File sub;
    Status s = env_->OpenDirAt(top.dir, name, &sub);
    if (!s.ok()) return s;
    if (!hour) {
      s = push(std::move(sub), rel);
      if (!s.ok()) return s;
      continue;
    }
    File f;
    s = env_->OpenAt(sub, std::string(kManifestFileName), O_RDONLY, 0, &f);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    out->hour = rel;
    out->file = std::move(f);
    return Status::OK();
  }
  *done = true;
  return Status::OK();
}

Status ManifestLineReader::ForEach(const std::function<Status(const ManifestLine&)>& fn) {
  for (;;) {
    ManifestLine line;
    bool done = false;
    Status s = Next(&line, &done);
    if (!s.ok() || done) return s;
    s = fn(line);
    if (!s.ok()) return s;
  }
}

Status ManifestLineReader::Next(ManifestLine* out, bool* done) {
  *done = false;
  for (;;) {
    const size_t nl = buf_.find('\n', start_);
    if (nl != std::string::npos) {
      out->number = ++number_;
      out->text = std::string_view(buf_).substr(start_, nl - start_);
      start_ = nl + 1;
      return Status::OK();
    }
    if (eof_) {
      torn_tail_ = start_ < buf_.size();
      *done = true;
      return Status::OK();
    }
    buf_.erase(0, start_);
    start_ = 0;
    const size_t have = buf_.size();
    buf_.resize(have + kReadChunk);
    size_t got = 0;
    Status s = env_->ReadAt(file_, offset_, buf_.data() + have, kReadChunk, &got);
    buf_.resize(have + (s.ok() ? got : 0));
    if (!s.ok()) return s;
    offset_ += got;
    eof_ = got < kReadChunk;  // a short read only at the end (env.h)
  }
}

}  // namespace ingest
