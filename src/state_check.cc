#include "state_check.h"

#include <optional>
#include <string>

#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "records.h"

namespace ingest {

namespace {

constexpr size_t kChunk = 64 * 1024;
// How far back the check looks for a record of this instance, over every
// manifest, newest first. One instance alone finds its own at the end of
// the newest file; beside busier ones, this bounds the cost of each pass.
constexpr uint64_t kBudget = 8 << 20;

// The last complete record of `f` whose source is in `input`, reading
// backwards while `*budget` lasts. A torn tail is not a record yet.
Status LastRecordFrom(Env* env, const File& f, const std::string& input, const Shard& shard,
                      uint64_t* budget, std::optional<ManifestRecord>* out) {
  FileStat st;
  Status s = env->Stat(f, &st);
  if (!s.ok()) return s;
  uint64_t pos = st.size;
  // The start of a line whose end a later chunk held, with its '\n'.
  std::string carry;
  bool at_end = true;
  while (pos > 0 && *budget > 0) {
    const uint64_t from = pos > kChunk ? pos - kChunk : 0;
    std::string buf(static_cast<size_t>(pos - from), '\0');
    size_t got = 0;
    s = env->ReadAt(f, from, buf.data(), buf.size(), &got);
    if (!s.ok()) return s;
    buf.resize(got);
    *budget -= std::min<uint64_t>(*budget, got);
    buf += carry;
    if (at_end) {
      // Past the torn tail, which may be longer than a chunk.
      const size_t last = buf.rfind('\n');
      if (last == std::string::npos) {
        pos = from;
        continue;
      }
      buf.erase(last + 1);
      at_end = false;
    }
    // buf now ends with a '\n' (or is empty); walk its lines backwards.
    size_t end = buf.empty() ? std::string::npos : buf.size() - 1;
    carry.clear();
    while (end != std::string::npos) {
      const size_t nl = end == 0 ? std::string::npos : buf.rfind('\n', end - 1);
      if (nl == std::string::npos && from > 0) {
        carry = buf.substr(0, end + 1);  // continues in the chunk before
        break;
      }
      const size_t start = nl == std::string::npos ? 0 : nl + 1;
      ManifestRecord r;
      if (ParseManifestLine(std::string_view(buf).substr(start, end - start), &r) &&
          IsInside(r.source, input) && ShardTakes(shard, input, r.source)) {
        *out = std::move(r);
        return Status::OK();
      }
      end = nl;
    }
    pos = from;
  }
  return Status::OK();
}

}  // namespace

Status CheckStateAgainstManifests(Env* env, const File& manifests, const std::string& input,
                                  StateStore* state, const std::string& state_name,
                                  const Shard& shard) {
  if (!manifests.isValid()) return Status::OK();
  ManifestTree tree(env, manifests, ManifestTree::Order::kNewestFirst);
  uint64_t budget = kBudget;
  while (budget > 0) {
    ManifestFile m;
    bool done = false;
    Status s = tree.Next(&m, &done);
    if (!s.ok() || done) return s;
    std::optional<ManifestRecord> r;
    s = LastRecordFrom(env, m.file, input, shard, &budget, &r);
    if (!s.ok() || !r) {
      if (!s.ok()) return s;
      continue;
    }
    std::string value;
    s = state->Get(keys::Content(r->sha256), &value);
    // A content forgotten on purpose is not a lost commit.
    if (s.IsNotFound() && state->Get(keys::Forgotten(r->sha256), &value).ok()) return Status::OK();
    if (s.IsNotFound()) {
      return Status::Corruption("state database " + state_name + " does not know content " +
                                r->sha256 + " that " + m.file.path() +
                                " records: it lost recent commits (run 'atomic-ingest "
                                "rebuild-state' to rebuild it)");
    }
    return s;
  }
  return Status::OK();
}

bool ManifestsHoldRecordsFrom(Env* env, const std::string& root, const std::string& input,
                              const Shard& shard) {
  File dir;
  if (!env->OpenDir(root, &dir).ok()) return false;
  ManifestTree tree(env, dir, ManifestTree::Order::kNewestFirst);
  for (;;) {
    ManifestFile m;
    bool done = false;
    Status s = tree.Next(&m, &done);
    if (done) return false;
    if (!s.ok()) continue;
    // An unreadable file is passed over, as an unreadable directory is.
    ManifestLineReader reader(env, m.file);
    bool found = false;
    for (bool end = false; !found && !end;) {
      ManifestLine line;
      ManifestRecord r;
      if (!reader.Next(&line, &end).ok()) break;
      found = !end && ParseManifestLine(line.text, &r) && IsInside(r.source, input) &&
              ShardTakes(shard, input, r.source);
    }
    if (found) return true;
  }
}

}  // namespace ingest
