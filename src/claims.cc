#include "claims.h"

#include <fcntl.h>
#include <sys/random.h>

#include <cerrno>
#include <charconv>

#include "clock.h"
#include "fs_util.h"
#include "manifest.h"
#include "manifest_reader.h"

namespace ingest {

namespace {

constexpr std::string_view kMagic = "atomic-ingest-claim/1 ";
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

// "atomic-ingest-claim/1 <owner> <intent> <size> <path>": the path last,
// since it may hold spaces.
std::string EncodeClaim(const Claim& c) {
  std::string out(kMagic);
  out += c.owner;
  out += ' ';
  out += c.intent;
  out += ' ';
  out += std::to_string(c.size);
  out += ' ';
  out += c.path;
  return out;
}

bool DecodeClaim(std::string_view sha256, std::string_view in, Claim* c) {
  if (in.substr(0, kMagic.size()) != kMagic) return false;
  in.remove_prefix(kMagic.size());
  std::string_view owner, intent, size;
  if (!Field(&in, &owner) || !Field(&in, &intent) || !Field(&in, &size) || in.empty()) {
    return false;
  }
  if (!IsOwner(owner) || !IsInsidePath(in)) return false;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), n);
  if (ec != std::errc() || end != size.data() + size.size()) return false;
  c->sha256 = std::string(sha256);
  c->owner = std::string(owner);
  c->intent = std::string(intent);
  c->size = n;
  c->path = std::string(in);
  return true;
}

Status ClaimSpace::Dir(const std::string& sha256, bool create, const File** dir) {
  const std::string fan = sha256.substr(0, 2);
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = dirs_.find(fan); it != dirs_.end()) {
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
  s = create ? OpenOrCreateDirs(env_, root_, fan, &f, &created) : OpenDirs(env_, root_, fan, &f);
  if (!s.ok()) return s;
  *dir = &dirs_.emplace(fan, std::move(f)).first->second;
  return Status::OK();
}

Status ClaimSpace::Find(const std::string& sha256, std::optional<Claim>* out) {
  out->reset();
  const File* dir = nullptr;
  Status s = Dir(sha256, /*create=*/false, &dir);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  std::string target;
  s = env_->ReadLink(*dir, sha256, &target);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  Claim c;
  if (!DecodeClaim(sha256, target, &c)) {
    return Status::Corruption("unreadable content claim " + dir->Child(sha256) +
                              " (not made by atomic-ingest?)");
  }
  *out = std::move(c);
  return Status::OK();
}

Status ClaimSpace::Take(const Claim& c, std::optional<Claim>* holder) {
  holder->reset();
  const File* dir = nullptr;
  Status s = Dir(c.sha256, /*create=*/true, &dir);
  if (!s.ok()) return s;
  s = env_->Symlink(*dir, c.sha256, EncodeClaim(c));
  if (s.ok() || s.err() != EEXIST) return s;
  s = Find(c.sha256, holder);
  if (!s.ok()) return s;
  // Gone again: its holder released it between the two calls.
  if (!*holder) return Take(c, holder);
  if ((*holder)->SameCommit(c)) holder->reset();
  return Status::OK();
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
  if (!s.ok()) return s;
  const std::string marker = c.sha256 + ".takeover-" + old.owner + "-" + old.intent;
  s = env_->Symlink(*dir, marker, EncodeClaim(c));
  if (!s.ok() && s.err() == EEXIST) {
    std::string target;
    Claim taker;
    s = env_->ReadLink(*dir, marker, &target);
    if (!s.ok()) return s;
    if (!DecodeClaim(c.sha256, target, &taker) || taker.owner != c.owner) {
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
  return Take(c, holder);
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
