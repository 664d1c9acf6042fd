#include "state_check.h"

#include <fcntl.h>

#include <string>
#include <vector>

#include "fs_util.h"
#include "manifest.h"
#include "records.h"
#include "scanner.h"

namespace ingest {

namespace {

constexpr size_t kTailBytes = 64 * 1024;

// The greatest directory name in `dir` (YYYY, MM, DD and HH sort as text).
Status NewestSubdir(Env* env, const File& dir, std::string* newest) {
  newest->clear();
  DirScanner scanner(env, &dir, 16 * 1024);
  for (;;) {
    DirEntry e;
    bool done = false;
    Status s = scanner.Next(&e, &done);
    if (!s.ok()) return s;
    if (done) return Status::OK();
    if (e.name.empty() || e.name[0] < '0' || e.name[0] > '9') continue;
    if (e.name > *newest) *newest = std::string(e.name);
  }
}

}  // namespace

Status CheckStateAgainstManifests(Env* env, const File& manifests, StateStore* state,
                                  const std::string& state_name) {
  if (!manifests.isValid()) return Status::OK();
  File dir;
  Status s = OpenDirs(env, manifests, "", &dir);
  if (!s.ok()) return s;
  for (int depth = 0; depth < 4; ++depth) {
    std::string name;
    s = NewestSubdir(env, dir, &name);
    if (!s.ok() || name.empty()) return s;
    File sub;
    s = env->OpenDirAt(dir, name, &sub);
    if (!s.ok()) return s;
    dir = std::move(sub);
  }
  File f;
  s = env->OpenAt(dir, std::string(kManifestFileName), O_RDONLY, 0, &f);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  FileStat st;
  s = env->Stat(f, &st);
  if (!s.ok() || st.size == 0) return s;
  const uint64_t from = st.size > kTailBytes ? st.size - kTailBytes : 0;
  std::string tail(static_cast<size_t>(st.size - from), '\0');
  size_t got = 0;
  s = env->ReadAt(f, from, tail.data(), tail.size(), &got);
  if (!s.ok()) return s;
  tail.resize(got);
  // The last complete line that is a record (a torn tail is not one yet).
  size_t end = tail.rfind('\n');
  while (end != std::string::npos && end > 0) {
    size_t start = tail.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    ManifestRecord r;
    if (ParseManifestLine(std::string_view(tail).substr(start, end - start), &r)) {
      std::string value;
      s = state->Get(keys::Content(r.sha256), &value);
      if (s.IsNotFound()) {
        return Status::Corruption("state database " + state_name + " does not know content " +
                                  r.sha256 + " that " + f.path() +
                                  " records: it lost recent commits (run 'atomic-ingest "
                                  "rebuild-state' to rebuild it)");
      }
      return s;
    }
    if (start == 0) break;
    end = start - 1;
  }
  return Status::OK();
}

}  // namespace ingest
