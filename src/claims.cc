#include "claims.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "clock.h"
#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"
#include "mem_state_store.h"
#include "records.h"
#include "sha256.h"

namespace ingest {

namespace {

constexpr char kOwnerFile[] = "instance-id";
constexpr size_t kOwnerHexDigits = 32;

bool IsOwner(std::string_view s) {
  if (s.size() != kOwnerHexDigits) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A path inside the warehouse: relative, without "." or ".." components.
bool IsInsidePath(std::string_view p) {
  if (p.empty() || p.front() == '/') return false;
  while (!p.empty()) {
    const size_t slash = p.find('/');
    const std::string_view part = p.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return true;
}

}  // namespace

Status LoadClaimOwner(Env* env, const File& state_dir, bool create, std::string* owner) {
  owner->clear();
  std::string text;
  Status s = ReadSmallFile(env, state_dir, kOwnerFile, kOwnerHexDigits + 1, &text);
  if (s.ok()) {
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!IsOwner(text)) {
      return Status::Corruption(state_dir.Child(kOwnerFile) + " does not hold " +
                                std::to_string(kOwnerHexDigits) + " hex digits");
    }
    *owner = std::move(text);
    return Status::OK();
  }
  if (!s.IsNotFound() || !create) return s.IsNotFound() ? Status::OK() : s;
  unsigned char bytes[kOwnerHexDigits / 2];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    return Status::FromErrno("cannot draw an instance id", errno);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  s = WriteFileAtomically(env, state_dir, kOwnerFile, text + "\n");
  if (s.ok()) *owner = std::move(text);
  return s;
}

namespace {

constexpr std::string_view kMagic = "atomic-ingest-claim/3 ";
constexpr size_t kCheckDigits = 16;
// Reads of the log's tail, and the bytes of its first record.
constexpr size_t kReadChunk = 1 << 20;
constexpr size_t kHeaderMax = 256;
// Claims folded before they are written to the index.
constexpr size_t kFoldBatch = 1 << 16;
// What identifies the line that ends where a fold stopped: its last bytes
// (a record's check), in hex so that the index's value stays one line.
constexpr size_t kLineEndBytes = 16;
constexpr char kNoLine[] = "-";
// About the length of a take record, to size a batch's appends.
constexpr size_t kTakeRecordGuess = 256;

void AppendHex(std::string_view bytes, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t at = out->size();
  out->resize(at + bytes.size() * 2);
  char* p = out->data() + at;
  for (unsigned char b : bytes) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 15];
  }
}

std::string Hex(std::string_view bytes) {
  std::string out;
  AppendHex(bytes, &out);
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexDigit(hex[i]);
    const int lo = HexDigit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi << 4 | lo);
  }
  return true;
}

std::string LineEnd(std::string_view line) {
  if (line.empty()) return "00";
  return Hex(line.substr(line.size() - std::min(line.size(), kLineEndBytes)));
}

std::string Check(std::string_view body) { return Sha256::HexOf(body).substr(0, kCheckDigits); }

bool ParseSize(std::string_view text, uint64_t* n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Splits `in` at spaces; false if a field is empty.
bool Fields(std::string_view in, std::vector<std::string_view>* out) {
  out->clear();
  while (true) {
    const size_t sp = in.find(' ');
    const std::string_view f = in.substr(0, sp);
    if (f.empty()) return false;
    out->push_back(f);
    if (sp == std::string_view::npos) return true;
    in.remove_prefix(sp + 1);
  }
}

// "<owner> <intent> <size> <hex path>": a claim's value in the index, and
// the middle of a take record.
void AppendClaimValue(const Claim& c, std::string* out) {
  out->append(c.owner).append(" ").append(c.intent).append(" ");
  out->append(std::to_string(c.size)).append(" ");
  AppendHex(c.path, out);
}

std::string EncodeClaimValue(const Claim& c) {
  std::string out;
  AppendClaimValue(c, &out);
  return out;
}

bool DecodeClaimFields(std::string_view sha256, std::string_view owner, std::string_view intent,
                       std::string_view size, std::string_view hex_path, Claim* c) {
  std::string path;
  if (!IsSha256Hex(sha256) || !IsOwner(owner) || intent.empty() || !ParseSize(size, &c->size) ||
      !Unhex(hex_path, &path) || !IsInsidePath(path)) {
    return false;
  }
  c->sha256 = std::string(sha256);
  c->owner = std::string(owner);
  c->intent = std::string(intent);
  c->path = std::move(path);
  return true;
}

bool DecodeClaimValue(std::string_view sha256, std::string_view value, Claim* c) {
  std::vector<std::string_view> f;
  return Fields(value, &f) && f.size() == 4 && DecodeClaimFields(sha256, f[0], f[1], f[2], f[3], c);
}

// EncodeClaimRecord, appended to `out`.
void AppendClaimRecord(const ClaimRecord& r, std::string* out) {
  const size_t start = out->size();
  out->append(kMagic);
  switch (r.op) {
    case ClaimRecord::Op::kLog:
      out->append("log ").append(r.log_id);
      break;
    case ClaimRecord::Op::kTake:
      out->append("take ").append(r.claim.sha256).append(" ");
      AppendClaimValue(r.claim, out);
      if (r.replaces) {
        out->append(" ").append(r.replaces->owner).append(" ").append(r.replaces->intent);
      }
      break;
    case ClaimRecord::Op::kRelease:
      out->append("release ").append(r.claim.sha256).append(" ").append(r.claim.owner);
      out->append(" ").append(r.claim.intent);
      break;
  }
  const std::string check = Check(std::string_view(*out).substr(start));
  out->append(" ").append(check).append("\n");
}

}  // namespace

std::string EncodeClaimRecord(const ClaimRecord& r) {
  std::string out;
  AppendClaimRecord(r, &out);
  return out;
}

bool DecodeClaimRecord(std::string_view line, ClaimRecord* r) {
  if (line.substr(0, kMagic.size()) != kMagic) return false;
  const size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos || sp < kMagic.size() ||
      line.substr(sp + 1) != Check(line.substr(0, sp))) {
    return false;
  }
  std::vector<std::string_view> f;
  if (!Fields(line.substr(kMagic.size(), sp - kMagic.size()), &f)) return false;
  *r = ClaimRecord();
  if (f[0] == "log" && f.size() == 2) {
    r->op = ClaimRecord::Op::kLog;
    r->log_id = std::string(f[1]);
    return true;
  }
  if (f[0] == "release" && f.size() == 4) {
    r->op = ClaimRecord::Op::kRelease;
    r->claim.sha256 = std::string(f[1]);
    r->claim.owner = std::string(f[2]);
    r->claim.intent = std::string(f[3]);
    return IsSha256Hex(f[1]) && IsOwner(f[2]);
  }
  if (f[0] != "take" || (f.size() != 6 && f.size() != 8)) return false;
  r->op = ClaimRecord::Op::kTake;
  if (!DecodeClaimFields(f[1], f[2], f[3], f[4], f[5], &r->claim)) return false;
  if (f.size() == 8) {
    if (!IsOwner(f[6])) return false;
    r->replaces = Claim{r->claim.sha256, std::string(f[6]), std::string(f[7]), 0, ""};
  }
  return true;
}

bool DecodeNamedClaim(std::string_view sha256, std::string_view in, Claim* c) {
  constexpr std::string_view kV1 = "atomic-ingest-claim/1 ";
  constexpr std::string_view kV2 = "atomic-ingest-claim/2 ";
  const auto field = [](std::string_view* rest, std::string_view* out) {
    const size_t sp = rest->find(' ');
    if (sp == std::string_view::npos || sp == 0) return false;
    *out = rest->substr(0, sp);
    rest->remove_prefix(sp + 1);
    return true;
  };
  const auto fill = [&](std::string_view owner, std::string_view intent, std::string_view size,
                        std::string_view path) {
    if (!IsOwner(owner) || intent.empty() || !IsInsidePath(path) || !ParseSize(size, &c->size)) {
      return false;
    }
    *c = Claim{std::string(sha256), std::string(owner), std::string(intent), c->size,
               std::string(path)};
    return true;
  };
  std::string_view owner, intent, size;
  if (in.substr(0, kV1.size()) == kV1) {
    // A symlink's target: "<owner> <intent> <size> <path>", the path last.
    in.remove_prefix(kV1.size());
    return field(&in, &owner) && field(&in, &intent) && field(&in, &size) && !in.empty() &&
           fill(owner, intent, size, in);
  }
  // A record file: "<sha256> <owner> <intent> <size> <path bytes> <path>\n"
  // for each claim of a batch.
  while (!in.empty()) {
    if (in.substr(0, kV2.size()) != kV2) return false;
    in.remove_prefix(kV2.size());
    std::string_view sha, length;
    uint64_t n = 0;
    if (!field(&in, &sha) || !field(&in, &owner) || !field(&in, &intent) || !field(&in, &size) ||
        !field(&in, &length) || !ParseSize(length, &n) || n >= in.size() || in[n] != '\n') {
      return false;
    }
    const std::string_view path = in.substr(0, n);
    in.remove_prefix(n + 1);
    if (sha == sha256) return fill(owner, intent, size, path);
  }
  return false;
}

bool ReleaseMatches(const Claim& release, const std::optional<Claim>& held) {
  return held && held->owner == release.owner &&
         (release.intent == kAnyIntent || held->intent == release.intent);
}

bool TakeWins(const ClaimRecord& r, const std::optional<Claim>& held) {
  return !held || (held->owner == r.claim.owner && r.claim.intent != kBackfillIntent) ||
         (r.replaces && held->SameCommit(*r.replaces));
}

// What one look at the log found: the changes to the index, in the order
// the log made them.
struct ClaimSpace::Fold {
  std::string log_id;
  uint64_t end = 0;                 // bytes of the log folded, up to a record's end
  uint64_t size = 0;                // the log's size when read
  bool reset = false;               // the index was of another log: it starts again
  uint64_t skipped = 0;             // torn or foreign lines
  std::string last_line = kNoLine;  // LineEnd of the line that ends at `end`
  std::unordered_map<std::string, std::optional<Claim>> changes;
};

ClaimSpace::ClaimSpace(Env* env, const File* warehouse, StateStore* index, std::string owner,
                       bool writable)
    : env_(env),
      warehouse_(warehouse),
      index_(index),
      owner_(std::move(owner)),
      writable_(writable) {}

Status ClaimSpace::Lookup(const std::string& sha256, std::optional<Claim>* out) {
  out->reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = overlay_.find(sha256); it != overlay_.end()) {
      *out = it->second;
      return Status::OK();
    }
    if (ignore_index_) return Status::OK();
    if (index_holds_ == IndexHolds::kUnknown) {
      index_holds_ = IndexHolds::kNone;
      Status s = index_->Scan(keys::kClaim, [&](std::string_view, std::string_view) {
        index_holds_ = IndexHolds::kSome;
        return false;
      });
      if (!s.ok()) {
        index_holds_ = IndexHolds::kUnknown;
        return s;
      }
    }
    // A single instance's index stays empty: its lookups read nothing.
    if (index_holds_ == IndexHolds::kNone) return Status::OK();
  }
  std::string value;
  Status s = index_->Get(keys::ClaimKey(sha256), &value);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  Claim c;
  if (!DecodeClaimValue(sha256, value, &c)) {
    return Status::Corruption("state: undecodable claim of content " + sha256);
  }
  *out = std::move(c);
  return Status::OK();
}

Status ClaimSpace::Find(const std::string& sha256, std::optional<Claim>* out) {
  return Lookup(sha256, out);
}

Status ClaimSpace::Held(Fold* fold, const std::string& sha256, std::optional<Claim>* out) {
  if (auto it = fold->changes.find(sha256); it != fold->changes.end()) {
    *out = it->second;
    return Status::OK();
  }
  out->reset();
  return fold->reset ? Status::OK() : Lookup(sha256, out);
}

void ClaimSpace::Apply(Fold* fold, const ClaimRecord& r, const std::optional<Claim>& held) {
  if (r.op == ClaimRecord::Op::kTake) {
    if (!TakeWins(r, held)) return;
    // This instance's own claims are not indexed (the content index and
    // the open intents know them): it only removes another's.
    if (r.claim.owner == owner_) {
      if (held) fold->changes[r.claim.sha256] = std::nullopt;
    } else {
      fold->changes[r.claim.sha256] = r.claim;
    }
  } else if (r.op == ClaimRecord::Op::kRelease) {
    if (ReleaseMatches(r.claim, held)) fold->changes[r.claim.sha256] = std::nullopt;
  }
}

Status ClaimSpace::LoadFolded() {
  if (loaded_) return Status::OK();
  std::string value;
  Status s = index_->Get(keys::kClaimLog, &value);
  if (s.ok()) {
    std::vector<std::string_view> f;
    if (!Fields(value, &f) || f.size() != 3 || !ParseSize(f[1], &folded_)) {
      return Status::Corruption("state: undecodable " + std::string(keys::kClaimLog) + " \"" +
                                value + "\"");
    }
    log_id_ = f[0] == "-" ? "" : std::string(f[0]);
    last_line_ = std::string(f[2]);
  } else if (!s.IsNotFound()) {
    return s;
  }
  loaded_ = true;
  return Status::OK();
}

Status ClaimSpace::FoldTail(Fold* fold) {
  Status s = LoadFolded();
  FileStat st;
  if (s.ok()) s = env_->Stat(log_, &st);
  if (!s.ok()) return s;
  fold->size = st.size;
  fold->log_id = log_id_;
  uint64_t pos = folded_;
  // The first record names the log: another name (the log was removed
  // and made again) or a log shorter than what was folded starts over.
  std::string head(std::min<uint64_t>(st.size, kHeaderMax), '\0');
  size_t got = 0;
  if (!head.empty()) s = env_->ReadAt(log_, 0, head.data(), head.size(), &got);
  if (!s.ok()) return s;
  head.resize(got);
  ClaimRecord first;
  const size_t nl = head.find('\n');
  const bool named = nl != std::string::npos &&
                     DecodeClaimRecord(std::string_view(head).substr(0, nl), &first) &&
                     first.op == ClaimRecord::Op::kLog;
  // The line that ends where the fold stopped must be the one folded:
  // else a power loss took back what was folded (another instance's
  // records, read before they were durable) and others appended since.
  std::string last = kNoLine;
  if (named && first.log_id == log_id_ && st.size >= folded_ && folded_ > 0) {
    std::string tail(std::min<uint64_t>(folded_, kLineEndBytes + 1), '\0');
    s = env_->ReadAt(log_, folded_ - tail.size(), tail.data(), tail.size(), &got);
    if (!s.ok()) return s;
    tail.resize(got);
    if (got == tail.size() && !tail.empty() && tail.back() == '\n') {
      std::string_view line = std::string_view(tail).substr(0, tail.size() - 1);
      if (const size_t nl = line.rfind('\n'); nl != std::string_view::npos) {
        line.remove_prefix(nl + 1);  // a line shorter than kLineEndBytes
      }
      last = LineEnd(line);
    }
  }
  fold->last_line = last_line_;
  if (!named || first.log_id != log_id_ || st.size < folded_ || last != last_line_) {
    fold->reset = !log_id_.empty() || folded_ > 0;
    fold->log_id = named ? first.log_id : "";
    fold->last_line = kNoLine;
    pos = 0;
  }
  std::string buf;
  uint64_t buf_at = pos;
  while (pos < st.size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadChunk, st.size - pos));
    const size_t kept = buf.size();
    buf.resize(kept + want);
    s = env_->ReadAt(log_, pos, buf.data() + kept, want, &got);
    if (!s.ok()) return s;
    buf.resize(kept + got);
    if (got == 0) break;
    pos += got;
    size_t start = 0;
    for (size_t end; (end = buf.find('\n', start)) != std::string::npos; start = end + 1) {
      ClaimRecord r;
      fold->last_line = LineEnd(std::string_view(buf).substr(start, end - start));
      if (!DecodeClaimRecord(std::string_view(buf).substr(start, end - start), &r)) {
        ++fold->skipped;
        continue;
      }
      if (r.op == ClaimRecord::Op::kLog) continue;
      std::optional<Claim> held;
      s = Held(fold, r.claim.sha256, &held);
      if (!s.ok()) return s;
      Apply(fold, r, held);
    }
    buf_at += start;
    buf.erase(0, start);
    if (writable_ && fold->changes.size() >= kFoldBatch) {
      // A long tail (an instance joining a warehouse) goes to the index
      // as it is read, not all held in memory.
      fold->end = buf_at;
      s = Persist(fold);
      if (!s.ok()) return s;
      fold->changes.clear();
      fold->reset = false;
    }
  }
  fold->end = buf_at;
  return Status::OK();
}

Status ClaimSpace::Persist(Fold* fold) {
  std::lock_guard<std::mutex> lock(mu_);
  if (writable_) {
    std::vector<StateWrite> writes;
    if (fold->reset) {
      Status s = index_->Scan(keys::kClaim, [&](std::string_view key, std::string_view) {
        if (!fold->changes.count(std::string(key.substr(keys::kClaim.size())))) {
          writes.push_back({std::string(key), std::nullopt});
        }
        return true;
      });
      if (!s.ok()) return s;
    }
    bool adds = false;
    for (const auto& [sha, claim] : fold->changes) {
      adds = adds || claim.has_value();
      writes.push_back(
          {keys::ClaimKey(sha),
           claim ? std::optional<std::string>(EncodeClaimValue(*claim)) : std::nullopt});
    }
    writes.push_back({std::string(keys::kClaimLog), (fold->log_id.empty() ? "-" : fold->log_id) +
                                                        " " + std::to_string(fold->end) + " " +
                                                        fold->last_line});
    Status s = index_->Apply(writes, /*sync=*/false);
    if (!s.ok()) {
      index_holds_ = IndexHolds::kUnknown;
      return s;
    }
    // A reset left only what the fold added.
    if (adds) {
      index_holds_ = IndexHolds::kSome;
    } else if (fold->reset) {
      index_holds_ = IndexHolds::kNone;
    }
  } else {
    if (fold->reset) {
      overlay_.clear();
      ignore_index_ = true;
    }
    for (auto& [sha, claim] : fold->changes) overlay_[sha] = std::move(claim);
  }
  log_id_ = fold->log_id;
  folded_ = fold->end;
  last_line_ = fold->last_line;
  return Status::OK();
}

Status ClaimSpace::NewLogId(std::string* id) {
  uint64_t r[2];
  if (::getrandom(r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
    return Status::FromErrno("cannot draw a claim log id", errno);
  }
  *id = Hex(std::string_view(reinterpret_cast<const char*>(r), sizeof r));
  return Status::OK();
}

Status ClaimSpace::OpenLog(bool create, bool* none) {
  *none = false;
  const std::string name(kClaimLogName);
  if (log_.isValid() && (!create || log_writable_)) {
    // Still the log at its name? One removed and made again since is
    // another log.
    FileStat at, open;
    Status s = env_->StatAt(dir_, name, &at);
    if (s.ok()) s = env_->Stat(log_, &open);
    if (s.ok() && at.ino == open.ino) return Status::OK();
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  log_ = File();
  log_writable_ = false;
  Status s;
  if (create) {
    bool created = false;
    s = OpenOrCreateDirs(env_, *warehouse_, kClaimsDirName, &dir_, &created);
    FileStat st;
    if (s.ok()) log_created_ = env_->StatAt(dir_, name, &st).IsNotFound();
    if (s.ok()) s = env_->OpenAt(dir_, name, O_RDWR | O_APPEND | O_CREAT, 0664, &log_);
    log_writable_ = s.ok();
    return s;
  }
  s = OpenDirs(env_, *warehouse_, kClaimsDirName, &dir_);
  if (s.ok() && writable_) {
    s = env_->OpenAt(dir_, name, O_RDWR | O_APPEND, 0, &log_);
    log_writable_ = s.ok();
  }
  // Read-only (explain, a read-only warehouse): reading is all a look
  // needs; a take reopens it and reports the refusal for its files.
  if (s.ok() ? !log_.isValid() : (s.err() == EROFS || s.err() == EACCES)) {
    s = env_->OpenAt(dir_, name, O_RDONLY, 0, &log_);
  }
  if (s.IsNotFound()) {
    *none = true;
    return Status::OK();
  }
  return s;
}

Status ClaimSpace::Locked(bool create, const std::function<Status(Fold*, std::string*)>& append,
                          bool sync) {
  std::lock_guard<std::mutex> serial(log_mu_);
  bool none = false;
  Status s = OpenLog(create && writable_, &none);
  if (s.ok() && none) {
    // No log: no claims. An index of a log removed since is dropped.
    s = LoadFolded();
    if (!s.ok() || (log_id_.empty() && folded_ == 0)) return s;
    Fold gone;
    gone.reset = true;
    return Persist(&gone);
  }
  if (!s.ok()) return s;
  // A log this instance cannot write is read without the lock (on NFS,
  // flock on a read-only descriptor fails): a record being appended
  // meanwhile reads as a torn tail, which is not folded.
  const bool lock = writable_ && log_writable_;
  if (lock) s = env_->WaitLockFile(log_);
  if (!s.ok()) return s;
  Fold fold;
  s = FoldTail(&fold);
  std::string head;
  if (s.ok() && create && fold.log_id.empty()) {
    // A new log, or one whose first record a crash tore: then nothing
    // after it was ever synced either, and it starts again.
    const bool had = fold.reset || !log_id_.empty() || folded_ > 0;
    const uint64_t size = fold.size;
    fold = Fold();
    fold.size = size;
    fold.reset = had;
    s = NewLogId(&fold.log_id);
    ClaimRecord r;
    r.op = ClaimRecord::Op::kLog;
    r.log_id = fold.log_id;
    head = EncodeClaimRecord(r);
  }
  std::string out;
  if (s.ok() && !fold.log_id.empty()) s = append(&fold, &out);
  if (s.ok() && !out.empty()) {
    // A torn tail: its writer died before a sync, so it committed nothing.
    if (fold.end < fold.size) s = env_->Truncate(log_, fold.end);
    out.insert(0, head);
    if (s.ok()) s = env_->Write(log_, out);
    if (s.ok()) {
      fold.end += out.size();
      fold.last_line = LineEnd(std::string_view(out).substr(0, out.size() - 1));
    }
    if (s.ok() && sync) s = log_created_ ? env_->SyncFs(*warehouse_) : env_->DataSync(log_);
    if (s.ok() && sync) log_created_ = false;
  } else if (!head.empty()) {
    fold = Fold();  // nothing taken: as it was
    fold.log_id = log_id_;
    fold.end = folded_;
    fold.last_line = last_line_;
  }
  if (lock) {
    Status u = env_->UnlockFile(log_);
    if (s.ok()) s = u;
  }
  if (s.ok()) s = Persist(&fold);
  if (fold.skipped > 0) {
    spdlog::warn(
        "{}: skipped {} unreadable lines (torn by a crash, or not written by "
        "atomic-ingest)",
        log_.path(), fold.skipped);
  }
  return s;
}

Status ClaimSpace::AllHeld(std::map<std::string, Claim>* out) {
  out->clear();
  std::lock_guard<std::mutex> lock(mu_);
  Status bad;
  Status s;
  if (!ignore_index_) {
    s = index_->Scan(keys::kClaim, [&](std::string_view key, std::string_view value) {
      Claim c;
      const std::string sha(key.substr(keys::kClaim.size()));
      if (!DecodeClaimValue(sha, value, &c)) {
        bad = Status::Corruption("state: undecodable claim of content " + sha);
        return false;
      }
      (*out)[sha] = std::move(c);
      return true;
    });
  }
  if (s.ok()) s = bad;
  for (const auto& [sha, claim] : overlay_) {
    if (claim) {
      (*out)[sha] = *claim;
    } else {
      out->erase(sha);
    }
  }
  return s;
}

Status ReadAllClaims(Env* env, const File& warehouse, std::map<std::string, Claim>* out) {
  MemStateStore empty;
  ClaimSpace space(env, &warehouse, &empty, /*owner=*/"", /*writable=*/false);
  Status s = space.Refresh();
  if (s.ok()) s = space.AllHeld(out);
  return s;
}

Status ClaimSpace::Refresh() {
  return Locked(/*create=*/false, [](Fold*, std::string*) { return Status::OK(); },
                /*sync=*/false);
}

Status ClaimSpace::Take(const std::vector<ClaimRequest>& requests,
                        std::vector<std::optional<Claim>>* holders, bool sync) {
  holders->assign(requests.size(), std::nullopt);
  if (requests.empty()) return Status::OK();
  return Locked(
      /*create=*/true,
      [&](Fold* fold, std::string* out) {
        out->reserve(requests.size() * kTakeRecordGuess);
        for (size_t i = 0; i < requests.size(); ++i) {
          ClaimRecord r;
          r.op = ClaimRecord::Op::kTake;
          r.claim = requests[i].claim;
          r.replaces = requests[i].replaces;
          std::optional<Claim> held;
          Status s = Held(fold, r.claim.sha256, &held);
          if (!s.ok()) return s;
          if (held && held->SameCommit(r.claim)) continue;  // held already
          if (!TakeWins(r, held)) {
            (*holders)[i] = std::move(held);
            continue;
          }
          Apply(fold, r, held);
          AppendClaimRecord(r, out);
        }
        return Status::OK();
      },
      sync);
}

Status ClaimSpace::Release(const std::vector<Claim>& claims, bool sync) {
  if (claims.empty()) return Status::OK();
  return Locked(
      /*create=*/false,
      [&](Fold* fold, std::string* out) {
        for (const Claim& c : claims) {
          // This instance's own claims are not in the index: their
          // releases are written blind, and a release that matches no
          // holder changes nothing.
          std::optional<Claim> held;
          Status s = Held(fold, c.sha256, &held);
          if (!s.ok()) return s;
          if (c.owner != owner_ && !ReleaseMatches(c, held)) continue;
          ClaimRecord r;
          r.op = ClaimRecord::Op::kRelease;
          r.claim = c;
          Apply(fold, r, held);
          AppendClaimRecord(r, out);
        }
        return Status::OK();
      },
      sync);
}

bool ClaimSpace::OriginalPresent(const Claim& c) {
  FileStat st;
  return env_->StatAt(*warehouse_, c.path, &st).ok() && st.IsRegular() && st.size == c.size;
}

Status ClaimCommitRecorded(Env* env, const File& manifests, const std::string& warehouse_path,
                           const Claim& claim, bool* recorded) {
  *recorded = false;
  // A backfill claims only what a content index held, and a content index
  // holds only recorded commits.
  if (claim.intent == kBackfillIntent) {
    *recorded = true;
    return Status::OK();
  }
  // The intent id starts with the commit's time in 16 hex digits (IntentId),
  // which is also the time that names the hour file of its record.
  uint64_t ns = 0;
  const std::string_view digits = std::string_view(claim.intent).substr(0, 16);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ns, 16);
  if (ec != std::errc() || end != digits.data() + 16 || !manifests.isValid()) {
    return Status::OK();
  }
  File hour;
  Status s = OpenDirs(env, manifests, UtcTime(static_cast<int64_t>(ns)).HourPath(), &hour);
  File manifest;
  if (s.ok()) s = env->OpenAt(hour, std::string(kManifestFileName), O_RDONLY, 0, &manifest);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  const std::string path = JoinPath(warehouse_path, claim.path);
  ManifestLineReader reader(env, manifest);
  return reader.ForEach([&](const ManifestLine& line) {
    ManifestRecord r;
    if (!*recorded && line.text.find(claim.sha256) != std::string_view::npos &&
        ParseManifestLine(line.text, &r) && r.sha256 == claim.sha256 && r.path == path) {
      *recorded = true;
    }
    return Status::OK();
  });
}

}  // namespace ingest
