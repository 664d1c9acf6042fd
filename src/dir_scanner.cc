#include "dir_scanner.h"

#include <dirent.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "sidecar.h"

namespace ingest {

namespace {

// The kernel's struct linux_dirent64 layout.
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

DirScanner::DirScanner(Env* env, const File* dir, size_t buffer_size, int64_t start)
    : env_(env), dir_(dir), buf_(buffer_size), offset_(start) {}

Status DirScanner::Next(DirEntry* entry, bool* done) {
  for (;;) {
    if (pos_ >= len_) {
      if (eof_) {
        *done = true;
        return Status::OK();
      }
      Status s = env_->ReadDir(*dir_, buf_.data(), buf_.size(), &len_);
      if (!s.ok()) return s;
      pos_ = 0;
      if (len_ == 0) {
        eof_ = true;
        continue;
      }
    }
    LinuxDirent64 d;
    std::memcpy(&d, buf_.data() + pos_, offsetof(LinuxDirent64, d_name));
    const char* name = buf_.data() + pos_ + offsetof(LinuxDirent64, d_name);
    pos_ += d.d_reclen;
    std::string_view n(name, strnlen(name, d.d_reclen - offsetof(LinuxDirent64, d_name)));
    const int64_t at = offset_;
    offset_ = d.d_off;
    if (n == "." || n == "..") continue;
    entry->name = n;
    entry->pos = at;
    entry->ino = d.d_ino;
    entry->type = d.d_type;
    entry->next_offset = d.d_off;
    *done = false;
    return Status::OK();
  }
}

NameFilter ClassifyName(std::string_view name) {
  if (name.empty() || name[0] == '.') return NameFilter::kHidden;
  if (EndsWith(name, ".tmp") || EndsWith(name, ".part") || EndsWith(name, ".swp")) {
    return NameFilter::kTempSuffix;
  }
  if (EndsWith(name, kSidecarSuffix)) return NameFilter::kSidecar;
  return NameFilter::kCandidate;
}

const char* NameFilterText(NameFilter f) {
  switch (f) {
    case NameFilter::kCandidate:
      return "candidate";
    case NameFilter::kHidden:
      return "hidden name";
    case NameFilter::kTempSuffix:
      return "temporary suffix";
    case NameFilter::kSidecar:
      return ".ok sidecar";
  }
  return "?";
}

Status ForEachEntry(Env* env, const File& dir, const std::function<Status(const DirEntry&)>& fn) {
  // Smaller than a pass's buffer: these listings are short, or one of
  // several open at once.
  DirScanner scanner(env, &dir, 64 * 1024);
  for (;;) {
    DirEntry e;
    bool done = false;
    Status s = scanner.Next(&e, &done);
    if (!s.ok() || done) return s;
    s = fn(e);
    if (!s.ok()) return s;
  }
}

Status ListSubdirectories(Env* env, const File& dir, std::vector<std::string>* out) {
  out->clear();
  Status s = ForEachEntry(env, dir, [&](const DirEntry& e) {
    std::string name(e.name);
    FileStat st;
    if (env->StatAt(dir, name, &st).ok() && st.IsDirectory()) out->push_back(std::move(name));
    return Status::OK();
  });
  std::sort(out->begin(), out->end());
  return s;
}

}  // namespace ingest
