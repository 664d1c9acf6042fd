#include "failure_log.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <vector>

namespace ingest {

namespace {

// Bounds what Prune holds before it writes.
constexpr size_t kFlushEvery = 1024;

}  // namespace

FailureLog::FailureLog(StateStore* state, bool writable) : state_(state), writable_(writable) {}

std::optional<FailureRecord> FailureLog::Current(const std::string& key) {
  std::string value;
  if (auto it = pending_.find(key); it != pending_.end()) {
    if (!it->second) return std::nullopt;
    value = *it->second;
  } else if (!state_->Get(key, &value).ok()) {
    return std::nullopt;
  }
  FailureRecord r;
  if (!DecodeFailureRecord(value, &r)) return std::nullopt;
  return r;
}

void FailureLog::Record(const StagingDir& dir, std::string_view name, const FileStat* st,
                        const Status& error, int64_t now_ns) {
  if (!writable_) return;
  const std::string key = keys::Failure(dir.st.ino, name);
  std::optional<FailureRecord> before = Current(key);
  FailureRecord r;
  r.path = dir.file.Child(name);
  r.error = error.ToString();
  r.at_ns = now_ns;
  r.code = static_cast<uint64_t>(error.code());
  r.err = static_cast<uint64_t>(error.err());
  if (st != nullptr) {
    r.dev = st->dev;
    r.ino = st->ino;
  }
  r.attempts = before && (st == nullptr || Describes(*before, *st)) ? before->attempts + 1 : 1;
  pending_[key] = EncodeFailureRecord(r);
  clean_dirs_.erase(keys::FailureDir(dir.st.ino));
}

void FailureLog::Clear(const StagingDir& dir, std::string_view name) {
  if (!writable_) return;
  std::string prefix = keys::FailureDir(dir.st.ino);
  if (clean_dirs_.count(prefix)) return;
  auto noted = pending_.lower_bound(prefix);
  const bool noted_here =
      noted != pending_.end() && noted->first.compare(0, prefix.size(), prefix) == 0;
  bool any = true;
  if (!noted_here && AnyIn(state_, dir.st.ino, &any).ok() && !any) {
    clean_dirs_.insert(std::move(prefix));
    return;
  }
  // A lookup costs less than a delete for every committed file.
  const std::string key = keys::Failure(dir.st.ino, name);
  std::string value;
  auto it = pending_.find(key);
  // Any record, also one of an older format that no longer decodes.
  if (it != pending_.end() ? it->second.has_value() : state_->Get(key, &value).ok()) {
    pending_[key] = std::nullopt;
  }
}

void FailureLog::Prune(Env* env, const StagingDir& dir) {
  if (!writable_) return;
  const std::string prefix = keys::FailureDir(dir.st.ino);
  Status s = state_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    const std::string name(key.substr(prefix.size()));
    FailureRecord r;
    FileStat st;
    Status there = env->StatAt(dir.file, name, &st);
    const bool gone =
        there.IsNotFound() || (there.ok() && DecodeFailureRecord(value, &r) && !Describes(r, st));
    if (gone) pending_[std::string(key)] = std::nullopt;
    if (pending_.size() >= kFlushEvery) Flush();
    return true;
  });
  if (!s.ok())
    spdlog::warn("cannot read the failure records of {}: {}", dir.file.path(), s.ToString());
}

void FailureLog::Flush() {
  if (pending_.empty()) return;
  std::vector<StateWrite> writes;
  writes.reserve(pending_.size());
  for (auto& [key, value] : pending_) writes.push_back({key, std::move(value)});
  pending_.clear();
  Status s = state_->Apply(writes, /*sync=*/false);
  if (!s.ok()) spdlog::warn("cannot record failures for status and explain: {}", s.ToString());
}

Status FailureLog::Find(StateStore* state, uint64_t dir_ino, std::string_view name,
                        std::optional<FailureRecord>* out) {
  out->reset();
  std::string value;
  Status s = state->Get(keys::Failure(dir_ino, name), &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  FailureRecord r;
  if (DecodeFailureRecord(value, &r)) *out = std::move(r);
  return Status::OK();
}

Status FailureLog::AnyIn(StateStore* state, uint64_t dir_ino, bool* any) {
  *any = false;
  return state->Scan(keys::FailureDir(dir_ino), [&](std::string_view, std::string_view) {
    *any = true;
    return false;
  });
}

bool FailureLog::Describes(const FailureRecord& r, const FileStat& st) {
  return r.ino == 0 || r.ino == st.ino;
}

FailureOutlook FailureLog::Outlook(const FailureRecord& r) {
  switch (static_cast<Status::Code>(r.code)) {
    case Status::Code::kNotFound:  // gone, or renamed, while being ingested
      return FailureOutlook::kPasses;
    case Status::Code::kCorruption:  // a checksum mismatch stays one
      return FailureOutlook::kRecurs;
    case Status::Code::kIOError:
      break;
    default:
      return FailureOutlook::kUnknown;
  }
  switch (static_cast<int>(r.err)) {
    case EACCES:
    case EPERM:
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case ENAMETOOLONG:
    case EIO:
    case EFBIG:
    case EMLINK:
      return FailureOutlook::kRecurs;
    case EAGAIN:  // the file changed between the hash and the move
    case ESTALE:  // replaced on the server (NFS)
    case ENOENT:
      return FailureOutlook::kPasses;
    default:
      return FailureOutlook::kUnknown;
  }
}

}  // namespace ingest
