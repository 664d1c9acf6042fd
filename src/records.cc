#include "records.h"

#include "codec.h"

namespace ingest {

namespace {

constexpr uint64_t kVersion = 1;

Encoder Begin() {
  Encoder e;
  e.PutVarint(kVersion);
  return e;
}

bool CheckVersion(Decoder* d) {
  uint64_t v;
  return d->GetVarint(&v) && v == kVersion;
}

}  // namespace

namespace keys {
std::string Content(std::string_view sha256) { return std::string(kContent) + std::string(sha256); }
std::string ClaimKey(std::string_view sha256) { return std::string(kClaim) + std::string(sha256); }
std::string Forgotten(std::string_view sha256) {
  return std::string(kForgotten) + std::string(sha256);
}
std::string Intent(std::string_view id) { return std::string(kIntent) + std::string(id); }
std::string Hook(std::string_view id) { return std::string(kHook) + std::string(id); }
std::string SnapshotDir(uint64_t dir_ino) {
  return std::string(kSnapshot) + std::to_string(dir_ino) + "/";
}
std::string Snapshot(uint64_t dir_ino, int64_t pos, std::string_view name) {
  std::string key = SnapshotDir(dir_ino);
  AppendSnapshotSuffix(pos, name, &key);
  return key;
}
void AppendSnapshotSuffix(int64_t pos, std::string_view name, std::string* key) {
  // Flipping the sign bit makes signed offsets sort as unsigned bytes.
  const uint64_t u = static_cast<uint64_t>(pos) ^ (uint64_t{1} << 63);
  char be[8];
  for (int i = 0; i < 8; ++i) be[i] = static_cast<char>((u >> (56 - 8 * i)) & 0xff);
  key->append(be, sizeof be);
  key->append(name);
}
std::string Cursor(uint64_t dir_ino) { return std::string(kCursor) + std::to_string(dir_ino); }
std::string FailureDir(uint64_t dir_ino) {
  return std::string(kFailure) + std::to_string(dir_ino) + "/";
}
std::string Failure(uint64_t dir_ino, std::string_view name) {
  return FailureDir(dir_ino) + std::string(name);
}
}  // namespace keys

std::string EncodeContentRecord(const ContentRecord& r) {
  Encoder e = Begin();
  e.PutString(r.path);
  e.PutString(r.source);
  e.PutString(r.manifest);
  e.PutVarint(r.size);
  e.PutSigned(r.ingested_at_ns);
  return e.Release();
}

bool DecodeContentRecord(std::string_view in, ContentRecord* r) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetString(&r->path) && d.GetString(&r->source) &&
         d.GetString(&r->manifest) && d.GetVarint(&r->size) && d.GetSigned(&r->ingested_at_ns) &&
         d.done();
}

std::string EncodeSnapshot(const Snapshot& s) {
  Encoder e = Begin();
  e.PutVarint(s.dev);
  e.PutVarint(s.ino);
  e.PutVarint(s.size);
  e.PutSigned(s.mtime_ns);
  e.PutSigned(s.ctime_ns);
  e.PutSigned(s.first_seen_ns);
  e.PutString(s.kept_sha256);
  return e.Release();
}

bool DecodeSnapshot(std::string_view in, Snapshot* s) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetVarint(&s->dev) && d.GetVarint(&s->ino) &&
         d.GetVarint(&s->size) && d.GetSigned(&s->mtime_ns) && d.GetSigned(&s->ctime_ns) &&
         d.GetSigned(&s->first_seen_ns) && d.GetString(&s->kept_sha256) && d.done();
}

std::string EncodeForgetRecord(const ForgetRecord& r) {
  Encoder e = Begin();
  e.PutString(r.path);
  e.PutSigned(r.forgotten_at_ns);
  e.PutString(r.reason);
  return e.Release();
}

bool DecodeForgetRecord(std::string_view in, ForgetRecord* r) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetString(&r->path) && d.GetSigned(&r->forgotten_at_ns) &&
         d.GetString(&r->reason) && d.done();
}

std::string EncodeFailureRecord(const FailureRecord& r) {
  Encoder e = Begin();
  e.PutString(r.path);
  e.PutString(r.error);
  e.PutSigned(r.at_ns);
  e.PutVarint(r.attempts);
  e.PutVarint(r.dev);
  e.PutVarint(r.ino);
  e.PutVarint(r.code);
  e.PutVarint(r.err);
  return e.Release();
}

bool DecodeFailureRecord(std::string_view in, FailureRecord* r) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetString(&r->path) && d.GetString(&r->error) &&
         d.GetSigned(&r->at_ns) && d.GetVarint(&r->attempts) && d.GetVarint(&r->dev) &&
         d.GetVarint(&r->ino) && d.GetVarint(&r->code) && d.GetVarint(&r->err) && d.done();
}

std::string EncodeIntent(const Intent& i) {
  Encoder e = Begin();
  e.PutVarint(static_cast<uint64_t>(i.action));
  e.PutString(i.sha256);
  e.PutString(i.src_dir);
  e.PutString(i.src_name);
  e.PutVarint(i.src_dev);
  e.PutVarint(i.src_ino);
  e.PutVarint(i.size);
  e.PutSigned(i.mtime_ns);
  e.PutString(i.tmp_dir);
  e.PutString(i.tmp_name);
  e.PutVarint(i.moved_dev);
  e.PutVarint(i.moved_ino);
  e.PutString(i.dest_dir);
  e.PutString(i.dest_name);
  e.PutString(i.manifest_path);
  e.PutString(i.manifest_line);
  e.PutString(i.sidecar_name);
  e.PutString(i.snapshot_key);
  return e.Release();
}

size_t EncodedIntentBound(const Intent& i) {
  // Its version, numbers and length prefixes take at most 10 bytes each.
  constexpr size_t kNumbers = 24 * 10;
  return kNumbers + i.sha256.size() + i.src_dir.size() + i.src_name.size() + i.tmp_dir.size() +
         i.tmp_name.size() + i.dest_dir.size() + i.dest_name.size() + i.manifest_path.size() +
         i.manifest_line.size() + i.sidecar_name.size() + i.snapshot_key.size();
}

bool DecodeIntent(std::string_view in, Intent* i) {
  Decoder d(in);
  uint64_t action;
  if (!CheckVersion(&d) || !d.GetVarint(&action) || action < 1 || action > 3) return false;
  i->action = static_cast<IntentAction>(action);
  return d.GetString(&i->sha256) && d.GetString(&i->src_dir) && d.GetString(&i->src_name) &&
         d.GetVarint(&i->src_dev) && d.GetVarint(&i->src_ino) && d.GetVarint(&i->size) &&
         d.GetSigned(&i->mtime_ns) && d.GetString(&i->tmp_dir) && d.GetString(&i->tmp_name) &&
         d.GetVarint(&i->moved_dev) && d.GetVarint(&i->moved_ino) && d.GetString(&i->dest_dir) &&
         d.GetString(&i->dest_name) && d.GetString(&i->manifest_path) &&
         d.GetString(&i->manifest_line) && d.GetString(&i->sidecar_name) &&
         d.GetString(&i->snapshot_key) && d.done();
}

std::string EncodeMark(uint64_t n) {
  Encoder e = Begin();
  e.PutVarint(n);
  return e.Release();
}

bool DecodeMark(std::string_view in, uint64_t* n) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetVarint(n) && d.done();
}

std::string EncodeHookRecord(const HookRecord& h) {
  Encoder e = Begin();
  e.PutString(h.path);
  e.PutString(h.sha256);
  e.PutString(h.source);
  e.PutString(h.manifest);
  e.PutString(h.manifest_line);
  e.PutVarint(h.size);
  e.PutSigned(h.committed_at_ns);
  e.PutVarint(h.attempts);
  e.PutString(h.last_error);
  e.PutSigned(h.last_attempt_ns);
  return e.Release();
}

bool DecodeHookRecord(std::string_view in, HookRecord* h) {
  Decoder d(in);
  return CheckVersion(&d) && d.GetString(&h->path) && d.GetString(&h->sha256) &&
         d.GetString(&h->source) && d.GetString(&h->manifest) && d.GetString(&h->manifest_line) &&
         d.GetVarint(&h->size) && d.GetSigned(&h->committed_at_ns) && d.GetVarint(&h->attempts) &&
         d.GetString(&h->last_error) && d.GetSigned(&h->last_attempt_ns) && d.done();
}

}  // namespace ingest
