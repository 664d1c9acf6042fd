#include "manifest.h"

#include <fcntl.h>

#include <boost/json.hpp>
#include <cerrno>

#include "fs_util.h"
#include "name_escape.h"

namespace ingest {

namespace json = boost::json;

namespace {

constexpr size_t kTailChunk = 4096;

}  // namespace

std::string FormatManifestLine(const ManifestRecord& r) {
  // Written field by field in a fixed order, which is what serializing a
  // json::object built in that order gives, without building one: the
  // committer formats one line per file on its serial path.
  const bool escaped = !IsValidUtf8(r.path) || !IsValidUtf8(r.source);
  std::string line;
  line.reserve(r.path.size() + r.source.size() + 256);
  auto field = [&](std::string_view key) {
    line += line.empty() ? "{\"" : ",\"";
    line += key;
    line += "\":";
  };
  auto str = [&](std::string_view key, std::string_view value) {
    field(key);
    line += json::serialize(json::string_view(value.data(), value.size()));
  };
  auto num = [&](std::string_view key, auto value) {
    field(key);
    line += std::to_string(value);
  };
  str("path", escaped ? EscapeName(r.path) : r.path);
  str("source", escaped ? EscapeName(r.source) : r.source);
  str("sha256", r.sha256);
  num("device", r.device);
  num("inode", r.inode);
  num("size", r.size);
  // Whole seconds, rounded down also before 1970.
  num("mtime", r.mtime_ns / 1000000000 - (r.mtime_ns % 1000000000 < 0 ? 1 : 0));
  num("mtime_ns", r.mtime_ns);
  str("ingested_at", r.ingested_at);
  if (escaped) line += ",\"escaped\":true";
  line += "}\n";
  return line;
}

bool ParseManifestLine(std::string_view line, ManifestRecord* r) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return false;
  const json::object& o = v.get_object();
  auto str = [&](const char* key, std::string* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_string()) return false;
    *out = std::string(f->get_string());
    return true;
  };
  auto u64 = [&](const char* key, uint64_t* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr) return false;
    if (f->is_uint64()) {
      *out = f->get_uint64();
    } else if (f->is_int64() && f->get_int64() >= 0) {
      *out = static_cast<uint64_t>(f->get_int64());
    } else {
      return false;
    }
    return true;
  };
  int64_t mtime_ns = 0;
  auto i64 = [&](const char* key, int64_t* out) {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || !f->is_int64()) return false;
    *out = f->get_int64();
    return true;
  };
  std::string path, source;
  if (!str("path", &path) || !str("source", &source) || !str("sha256", &r->sha256) ||
      !u64("device", &r->device) || !u64("inode", &r->inode) || !u64("size", &r->size) ||
      !i64("mtime_ns", &mtime_ns) || !str("ingested_at", &r->ingested_at)) {
    return false;
  }
  r->mtime_ns = mtime_ns;
  const json::value* escaped = o.if_contains("escaped");
  if (escaped != nullptr && escaped->is_bool() && escaped->get_bool()) {
    if (!UnescapeName(path, &r->path) || !UnescapeName(source, &r->source)) return false;
  } else {
    r->path = std::move(path);
    r->source = std::move(source);
  }
  return true;
}

Status TruncateTornTail(Env* env, const File& file, bool* repaired) {
  *repaired = false;
  FileStat st;
  Status s = env->Stat(file, &st);
  if (!s.ok() || st.size == 0) return s;
  char buf[kTailChunk];
  uint64_t end = st.size;
  while (end > 0) {
    uint64_t start = end > kTailChunk ? end - kTailChunk : 0;
    size_t got = 0;
    s = env->ReadAt(file, start, buf, static_cast<size_t>(end - start), &got);
    if (!s.ok()) return s;
    for (size_t i = got; i > 0; --i) {
      if (buf[i - 1] == '\n') {
        uint64_t keep = start + i;
        if (keep == st.size) return Status::OK();
        *repaired = true;
        return env->Truncate(file, keep);
      }
    }
    end = start;
  }
  *repaired = true;
  return env->Truncate(file, 0);
}

Status ManifestWriter::Open(const std::string& hour_dir, bool create, OpenManifest** out) {
  auto it = files_.find(hour_dir);
  if (it != files_.end()) {
    *out = &it->second;
    return Status::OK();
  }
  File dir;
  Status s;
  if (create) {
    bool created = false;
    s = OpenOrCreateDirs(env_, *root_, hour_dir, &dir, &created);
    created_ |= created;
  } else {
    s = OpenDirs(env_, *root_, hour_dir, &dir);
  }
  if (!s.ok()) return s;
  std::string name(kManifestFileName);
  OpenManifest m;
  FileStat before;
  bool existed = env_->StatAt(dir, name, &before).ok();
  int flags = create ? O_RDWR | O_APPEND | O_CREAT : O_RDONLY;
  s = env_->OpenAt(dir, name, flags, 0664, &m.file);  // never world-writable
  if (!s.ok()) return s;
  created_ |= !existed;
  if (create) {
    bool repaired = false;
    s = TruncateTornTail(env_, m.file, &repaired);
    if (!s.ok()) return s;
    // The truncation is made durable by the Sync() that follows the append.
    m.dirty |= repaired;
    FileStat st;
    s = env_->Stat(m.file, &st);
    if (!s.ok()) return s;
    m.synced_size = st.size;
  }
  *out = &files_.emplace(hour_dir, std::move(m)).first->second;
  return Status::OK();
}

Status ManifestWriter::Append(const std::string& hour_dir, std::string_view lines) {
  OpenManifest* m = nullptr;
  Status s = Open(hour_dir, /*create=*/true, &m);
  if (!s.ok()) return s;
  m->dirty = true;
  return env_->Write(m->file, lines);
}

Status ManifestWriter::Sync() {
  for (auto& [hour, m] : files_) {
    if (!m.dirty) continue;
    Status s = env_->DataSync(m.file);
    if (!s.ok()) return s;
  }
  if (created_) {
    // New directories and the new file's own entry are metadata that
    // fdatasync of the file does not cover.
    Status s = env_->SyncFs(*root_);
    if (!s.ok()) return s;
    created_ = false;
  }
  for (auto& [hour, m] : files_) {
    if (!m.dirty) continue;
    FileStat st;
    Status s = env_->Stat(m.file, &st);
    if (!s.ok()) return s;
    m.synced_size = st.size;
    m.dirty = false;
  }
  // Keep only the newest hour open; a pass rarely spans more than two.
  while (files_.size() > 1) files_.erase(files_.begin());
  return Status::OK();
}

void ManifestWriter::Rollback() {
  for (auto& [hour, m] : files_) {
    if (m.dirty) (void)env_->Truncate(m.file, m.synced_size);
    m.dirty = false;
  }
}

Status ManifestWriter::Contains(const std::string& hour_dir, std::string_view line, bool* found) {
  *found = false;
  OpenManifest* m = nullptr;
  Status s = Open(hour_dir, /*create=*/true, &m);
  if (!s.ok()) return s;
  std::string_view want = line;
  if (!want.empty() && want.back() == '\n') want.remove_suffix(1);
  std::string pending;
  char buf[1 << 16];
  uint64_t offset = 0;
  for (;;) {
    size_t got = 0;
    s = env_->ReadAt(m->file, offset, buf, sizeof buf, &got);
    if (!s.ok()) return s;
    if (got == 0) break;
    offset += got;
    pending.append(buf, got);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (std::string_view(pending).substr(start, nl - start) == want) {
        *found = true;
        return Status::OK();
      }
    }
    pending.erase(0, start);
  }
  return Status::OK();
}

}  // namespace ingest
