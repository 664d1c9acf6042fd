#include "claims.h"

#include <fcntl.h>
#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "clock.h"
#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"

namespace ingest {

namespace {

constexpr std::string_view kMagic = "atomic-ingest-claim/2 ";
constexpr std::string_view kMagicV1 = "atomic-ingest-claim/1 ";
constexpr std::string_view kRecordsDirName = "records";
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

// Splits off the text up to the next space.
bool Field(std::string_view* in, std::string_view* out) {
  const size_t sp = in->find(' ');
  if (sp == std::string_view::npos || sp == 0) return false;
  *out = in->substr(0, sp);
  in->remove_prefix(sp + 1);
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

std::string EncodeClaim(const Claim& c) {
  std::string out(kMagic);
  out += c.sha256;
  out += ' ';
  out += c.owner;
  out += ' ';
  out += c.intent;
  out += ' ';
  out += std::to_string(c.size);
  out += ' ';
  out += std::to_string(c.path.size());
  out += ' ';
  out += c.path;
  out += '\n';
  return out;
}

namespace {

bool ParseSize(std::string_view text, uint64_t* n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

bool FillClaim(std::string_view sha256, std::string_view owner, std::string_view intent,
               std::string_view size, std::string_view path, Claim* c) {
  uint64_t n = 0;
  if (!IsOwner(owner) || intent.empty() || !IsInsidePath(path) || !ParseSize(size, &n)) {
    return false;
  }
  c->sha256 = std::string(sha256);
  c->owner = std::string(owner);
  c->intent = std::string(intent);
  c->size = n;
  c->path = std::string(path);
  return true;
}

// Format 1, the target of a claim symlink: "atomic-ingest-claim/1 <owner>
// <intent> <size> <path>", the path last.
bool DecodeClaimV1(std::string_view sha256, std::string_view in, Claim* c) {
  in.remove_prefix(kMagicV1.size());
  std::string_view owner, intent, size;
  if (!Field(&in, &owner) || !Field(&in, &intent) || !Field(&in, &size) || in.empty()) {
    return false;
  }
  return FillClaim(sha256, owner, intent, size, in, c);
}

}  // namespace

bool DecodeClaim(std::string_view sha256, std::string_view in, Claim* c) {
  if (in.substr(0, kMagicV1.size()) == kMagicV1) return DecodeClaimV1(sha256, in, c);
  while (!in.empty()) {
    if (in.substr(0, kMagic.size()) != kMagic) return false;
    in.remove_prefix(kMagic.size());
    std::string_view sha, owner, intent, size, length;
    uint64_t n = 0;
    if (!Field(&in, &sha) || !Field(&in, &owner) || !Field(&in, &intent) || !Field(&in, &size) ||
        !Field(&in, &length) || !ParseSize(length, &n) || n >= in.size() || in[n] != '\n') {
      return false;
    }
    const std::string_view path = in.substr(0, n);
    in.remove_prefix(n + 1);
    if (sha == sha256) return FillClaim(sha256, owner, intent, size, path, c);
  }
  return false;
}

Status ClaimSpace::OpenSub(const std::string& rel, bool create, const File** dir) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = dirs_.find(rel); it != dirs_.end()) {
    *dir = &it->second;
    return Status::OK();
  }
  File f;
  Status s;
  if (!root_.isValid()) {
    bool created = false;
    s = create ? OpenOrCreateDirs(env_, *warehouse_, kClaimsDirName, &root_, &created)
               : OpenDirs(env_, *warehouse_, kClaimsDirName, &root_);
    if (!s.ok()) return s;
  }
  bool created = false;
  s = create ? OpenOrCreateDirs(env_, root_, rel, &f, &created) : OpenDirs(env_, root_, rel, &f);
  if (!s.ok()) return s;
  *dir = &dirs_.emplace(rel, std::move(f)).first->second;
  return Status::OK();
}

Status ClaimSpace::Dir(const std::string& sha256, bool create, const File** dir) {
  return OpenSub(sha256.substr(0, 2), create, dir);
}

Status ClaimSpace::ReadClaim(const File& dir, const std::string& name, const std::string& sha256,
                             std::optional<Claim>* out) {
  out->reset();
  std::string text;
  File f;
  Status s = env_->OpenAt(dir, name, O_RDONLY | O_NONBLOCK, 0, &f);
  FileStat st;
  if (s.ok()) s = env_->Stat(f, &st);
  if (s.ok()) {
    // A record file holds at most kClaimsPerRecordFile paths of PATH_MAX.
    constexpr uint64_t kMax = kClaimsPerRecordFile * 8192;
    if (!st.IsRegular() || st.size > kMax) {
      return Status::Corruption("unreadable content claim " + f.path() +
                                " (not a claim record file)");
    }
    text.resize(st.size);
    size_t got = 0;
    s = env_->ReadAt(f, 0, text.data(), text.size(), &got);
    text.resize(got);
  } else if (s.err() == ELOOP) {
    s = env_->ReadLink(dir, name, &text);  // format 1
  }
  if (!s.ok()) return s;
  Claim c;
  if (!DecodeClaim(sha256, text, &c)) {
    return Status::Corruption("unreadable content claim " + dir.Child(name) +
                              " (not made by atomic-ingest?)");
  }
  *out = std::move(c);
  return Status::OK();
}

Status ClaimSpace::Find(const std::string& sha256, std::optional<Claim>* out) {
  out->reset();
  const File* dir = nullptr;
  Status s = Dir(sha256, /*create=*/false, &dir);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  s = ReadClaim(*dir, sha256, sha256, out);
  return s.IsNotFound() ? Status::OK() : s;
}

Status ClaimSpace::WriteRecordFile(const std::string& owner, const std::string& intent,
                                   std::string_view text, bool sync, std::string* file) {
  const std::string rel = std::string(kRecordsDirName) + "/" + owner;
  const File* dir = nullptr;
  Status s = OpenSub(rel, /*create=*/true, &dir);
  if (!s.ok()) return s;
  // Intent ids are unique; a record of the same intent again (recovery
  // retaking its claim) gets a random suffix.
  for (int attempt = 0;; ++attempt) {
    std::string name = intent;
    if (attempt > 0) {
      uint64_t r = 0;
      if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) {
        return Status::FromErrno("cannot draw a claim record name", errno);
      }
      name += "." + std::to_string(r);
    }
    File f;
    s = env_->OpenAt(*dir, name, O_WRONLY | O_CREAT | O_EXCL, 0644, &f);
    if (!s.ok() && s.err() == EEXIST && attempt < 8) continue;
    if (s.ok()) s = env_->Write(f, text);
    if (s.ok() && sync) s = env_->DataSync(f);
    if (s.ok()) *file = rel + "/" + name;
    return s;
  }
}

Status ClaimSpace::WriteRecords(const std::vector<Claim>& claims, std::vector<std::string>* files) {
  files->assign(claims.size(), std::string());
  for (size_t first = 0; first < claims.size(); first += kClaimsPerRecordFile) {
    const size_t end = std::min(claims.size(), first + kClaimsPerRecordFile);
    std::string text;
    for (size_t i = first; i < end; ++i) text += EncodeClaim(claims[i]);
    std::string file;
    Status s = WriteRecordFile(claims[first].owner, claims[first].intent, text,
                               /*sync=*/false, &file);
    if (!s.ok()) return s;
    for (size_t i = first; i < end; ++i) (*files)[i] = file;
  }
  return Status::OK();
}

Status ClaimSpace::LinkRecord(const std::string& record, const File& dir, const std::string& name) {
  const size_t slash = record.rfind('/');
  const File* from = nullptr;
  Status s = OpenSub(record.substr(0, slash), /*create=*/false, &from);
  if (s.ok()) s = env_->Link(*from, record.substr(slash + 1), dir, name);
  return s;
}

Status ClaimSpace::Take(const Claim& c, std::optional<Claim>* holder) {
  std::string record;
  Status s = WriteRecordFile(c.owner, c.intent, EncodeClaim(c), /*sync=*/true, &record);
  if (!s.ok()) return s;
  return Take(c, record, holder);
}

Status ClaimSpace::Take(const Claim& c, const std::string& record, std::optional<Claim>* holder) {
  holder->reset();
  const File* dir = nullptr;
  Status s = Dir(c.sha256, /*create=*/true, &dir);
  if (!s.ok()) return s;
  // A holder may release its claim between the link and the read: a few
  // tries, then the error of the last.
  for (int attempt = 0; attempt < 8; ++attempt) {
    s = LinkRecord(record, *dir, c.sha256);
    if (s.ok() || s.err() != EEXIST) return s;
    s = ReadClaim(*dir, c.sha256, c.sha256, holder);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    if ((*holder)->SameCommit(c)) holder->reset();
    return Status::OK();
  }
  return s;
}

Status ClaimSpace::Release(const Claim& c) {
  std::optional<Claim> held;
  Status s = Find(c.sha256, &held);
  if (!s.ok() || !held || !held->SameCommit(c)) return s;
  const File* dir = nullptr;
  s = Dir(c.sha256, /*create=*/false, &dir);
  if (s.ok()) s = env_->Unlink(*dir, c.sha256);
  return s.IsNotFound() ? Status::OK() : s;
}

Status ClaimSpace::TakeOver(const Claim& old, const Claim& c, std::optional<Claim>* holder) {
  holder->reset();
  const File* dir = nullptr;
  Status s = Dir(c.sha256, /*create=*/true, &dir);
  std::string record;
  if (s.ok()) s = WriteRecordFile(c.owner, c.intent, EncodeClaim(c), /*sync=*/true, &record);
  if (!s.ok()) return s;
  const std::string marker = c.sha256 + ".takeover-" + old.owner + "-" + old.intent;
  s = LinkRecord(record, *dir, marker);
  if (!s.ok() && s.err() == EEXIST) {
    std::optional<Claim> taker;
    s = ReadClaim(*dir, marker, c.sha256, &taker);
    if (!s.ok()) return s;
    if (taker->owner != c.owner) {
      // Another instance is taking it over, or has: wait for its claim.
      s = Find(c.sha256, holder);
      if (s.ok() && !*holder) *holder = taker;
      return s;
    }
  } else if (!s.ok()) {
    return s;
  }
  s = Release(old);
  if (!s.ok()) return s;
  return Take(c, record, holder);
}

bool ClaimSpace::OriginalPresent(const Claim& c) {
  FileStat st;
  return env_->StatAt(*warehouse_, c.path, &st).ok() && st.IsRegular() && st.size == c.size;
}

Status ClaimCommitRecorded(Env* env, const File& manifests, const std::string& warehouse_path,
                           const Claim& claim, bool* recorded) {
  *recorded = false;
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
