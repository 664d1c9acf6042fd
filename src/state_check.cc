#include "state_check.h"

#include <string>
#include <vector>

#include "manifest.h"
#include "manifest_reader.h"
#include "records.h"

namespace ingest {

namespace {

constexpr size_t kTailBytes = 64 * 1024;

}  // namespace

Status CheckStateAgainstManifests(Env* env, const File& manifests, StateStore* state,
                                  const std::string& state_name) {
  if (!manifests.isValid()) return Status::OK();
  // The newest manifest file.
  ManifestTree tree(env, manifests, ManifestTree::Order::kNewestFirst);
  ManifestFile newest;
  bool none = false;
  Status s = tree.Next(&newest, &none);
  if (!s.ok() || none) return s;
  const File& f = newest.file;
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
