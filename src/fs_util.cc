#include "fs_util.h"

#include <fcntl.h>

#include <cerrno>

namespace ingest {

namespace {

template <typename Fn>
Status WalkDirs(Env* env, const File& root, std::string_view rel, File* out, Fn&& before_open) {
  File current;
  Status s = env->OpenDirAt(root, ".", &current);
  if (!s.ok()) return s;
  std::string path = root.path();
  current = File(current.TakeFd(), path);  // not "<root>/." in messages
  while (!rel.empty()) {
    size_t slash = rel.find('/');
    std::string part(rel.substr(0, slash));
    rel = slash == std::string_view::npos ? std::string_view() : rel.substr(slash + 1);
    if (part.empty()) continue;
    s = before_open(current, part);
    if (!s.ok()) return s;
    File next;
    s = env->OpenDirAt(current, part, &next);
    if (!s.ok()) return s;
    current = std::move(next);
    path = JoinPath(path, part);
  }
  *out = File(current.TakeFd(), path);
  return Status::OK();
}

}  // namespace

std::string JoinPath(std::string_view a, std::string_view b) {
  std::string out(a);
  if (b.empty()) return out;
  if (!out.empty() && out.back() != '/') out += '/';
  out += b;
  return out;
}

bool IsInside(std::string_view inner, std::string_view outer) {
  return inner.size() > outer.size() && inner.substr(0, outer.size()) == outer &&
         (outer == "/" || inner[outer.size()] == '/');
}

Status OpenOrCreateDirs(Env* env, const File& root, std::string_view rel, File* out,
                        bool* created) {
  *created = false;
  return WalkDirs(env, root, rel, out, [&](const File& dir, const std::string& part) {
    // The umask decides, but never world-writable.
    Status s = env->MkdirAt(dir, part, 0775);
    if (s.ok()) {
      *created = true;
      return Status::OK();
    }
    return s.err() == EEXIST ? Status::OK() : s;
  });
}

Status OpenDirs(Env* env, const File& root, std::string_view rel, File* out) {
  return WalkDirs(env, root, rel, out,
                  [](const File&, const std::string&) { return Status::OK(); });
}

Status WriteFileAtomically(Env* env, const File& dir, const std::string& name,
                           std::string_view content) {
  const std::string tmp = "." + name + ".tmp";
  File f;
  Status s = env->OpenAt(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &f);
  if (!s.ok()) return s;
  s = env->Write(f, content);
  if (s.ok()) s = env->Sync(f);
  if (s.ok()) s = env->ReplaceFile(dir, tmp, name);
  if (!s.ok()) {
    // The write's own error is the one to report; a temp name left behind
    // is replaced by the next write.
    (void)env->Unlink(dir, tmp);
    return s;
  }
  return env->Sync(dir);
}

bool IsSameInode(Env* env, const File& dir, const std::string& name, uint64_t ino) {
  FileStat st;
  return env->StatAt(dir, name, &st).ok() && st.ino == ino;
}

bool IsUnchanged(Env* env, const File& dir, const std::string& name, uint64_t ino, uint64_t size,
                 int64_t mtime_ns) {
  FileStat st;
  return env->StatAt(dir, name, &st).ok() && st.ino == ino && st.size == size &&
         st.mtime_ns == mtime_ns;
}

Status ReadSmallFile(Env* env, const File& dir, const std::string& name, size_t max,
                     std::string* out) {
  File f;
  Status s = env->OpenAt(dir, name, O_RDONLY | O_NONBLOCK, 0, &f);
  if (!s.ok()) return s;
  out->assign(max + 1, '\0');
  size_t got = 0;
  s = env->ReadAt(f, 0, out->data(), max + 1, &got);
  if (!s.ok()) return s;
  if (got > max)
    return Status::Corruption(f.path() + " is larger than " + std::to_string(max) + " bytes");
  out->resize(got);
  return Status::OK();
}

}  // namespace ingest
