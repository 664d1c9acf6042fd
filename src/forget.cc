#include "forget.h"

#include <fcntl.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "fs_util.h"
#include "manifest_reader.h"
#include "manifest_writer.h"
#include "sha256.h"

namespace ingest {

namespace json = boost::json;

namespace {

// The content `o.path` names: itself when it is a sha256, else the hash of
// the file there.
Status ResolveContent(Env* env, const std::string& target, std::string* sha256) {
  if (IsSha256Hex(target)) {
    *sha256 = target;
    std::transform(sha256->begin(), sha256->end(), sha256->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return Status::OK();
  }
  Status s = HashPath(env, target, sha256);
  if (s.IsNotFound()) {
    return Status::NotFound(target +
                            ": no such file; give the content's sha256 instead (its manifest "
                            "record and `explain` show it)");
  }
  if (!s.ok()) return Status::IOError("cannot read " + target + ": " + s.message(), s.err());
  return Status::OK();
}

// Appends `line` to the log under its flock, after a newline if a writer
// died mid-line, and makes it durable.
Status AppendToLog(Env* env, const File& manifests, const std::string& line) {
  FileStat st;
  Status s = env->StatAt(manifests, std::string(kForgottenLogName), &st);
  const bool created = s.IsNotFound();
  if (!s.ok() && !created) return s;
  File log;
  s = env->OpenAt(manifests, std::string(kForgottenLogName), O_RDWR | O_APPEND | O_CREAT, 0644,
                  &log);
  if (!s.ok()) return s;
  s = env->WaitLockFile(log);
  if (!s.ok()) return s;
  // A torn tail is a line that never finished: no record, cut it.
  bool repaired = false;
  s = TruncateTornTail(env, log, &repaired);
  if (s.ok()) s = env->Write(log, line);
  if (s.ok()) s = env->DataSync(log);
  // A new file's name is durable once its directory is.
  if (s.ok() && created) s = env->Sync(manifests);
  Status unlocked = env->UnlockFile(log);
  return s.ok() ? unlocked : s;
}

}  // namespace

std::string FormatForgetLine(const ForgetLogRecord& r) {
  json::object o;
  o["sha256"] = r.sha256;
  o["path"] = r.path;
  o["source"] = r.source;
  o["forgotten_at"] = r.forgotten_at;
  o["forgotten_at_ns"] = r.forgotten_at_ns;
  o["reason"] = r.reason;
  o["instance"] = r.instance;
  return json::serialize(o) + "\n";
}

bool ParseForgetLine(std::string_view line, ForgetLogRecord* r) {
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
  const json::value* ns = o.if_contains("forgotten_at_ns");
  if (ns == nullptr || !ns->is_int64()) return false;
  r->forgotten_at_ns = ns->get_int64();
  return str("sha256", &r->sha256) && IsSha256Hex(r->sha256) && str("path", &r->path) &&
         str("source", &r->source) && str("forgotten_at", &r->forgotten_at) &&
         str("reason", &r->reason) && str("instance", &r->instance);
}

Status ReadForgetLog(Env* env, const File& manifests,
                     std::map<std::string, ForgetLogRecord>* latest) {
  File log;
  Status s = env->OpenAt(manifests, std::string(kForgottenLogName), O_RDONLY, 0, &log);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  ManifestLineReader reader(env, log);
  return reader.ForEach([&](const ManifestLine& line) {
    ForgetLogRecord r;
    if (ParseForgetLine(line.text, &r)) {
      ForgetLogRecord& slot = (*latest)[r.sha256];
      if (r.forgotten_at_ns >= slot.forgotten_at_ns) slot = std::move(r);
    }
    return Status::OK();
  });
}

Status Forget(Env* env, Clock* clock, const Options& o, const File& state_dir, StateStore* state,
              ForgetResult* out) {
  Status s = ResolveContent(env, o.path, &out->sha256);
  if (!s.ok()) return s;
  const std::string& sha = out->sha256;
  std::string value;
  s = state->Get(keys::Content(sha), &value);
  if (s.ok()) {
    ContentRecord rec;
    if (!DecodeContentRecord(value, &rec)) {
      return Status::Corruption("state: undecodable content record for " + sha);
    }
    out->content = rec;
  } else if (!s.IsNotFound()) {
    return s;
  }
  s = LoadClaimOwner(env, state_dir, /*create=*/false, &out->instance);
  if (!s.ok()) return s;
  File warehouse;
  std::optional<ClaimSpace> claims;
  if (!o.warehouse.empty()) {
    s = env->OpenDir(o.warehouse, &warehouse);
    if (s.ok()) {
      claims.emplace(env, &warehouse, state, out->instance);
      s = claims->Refresh();
      if (s.ok()) s = claims->Find(sha, &out->claim);
    }
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  if (!out->content && !out->claim) {
    return Status::NotFound("content " + sha +
                            " is not known: neither this instance's state nor the warehouse's "
                            "claims hold it, so its next delivery is ingested anyway");
  }

  ForgetLogRecord log;
  log.sha256 = sha;
  if (out->content) {
    log.path = out->content->path;
    log.source = out->content->source;
  } else {
    log.path = JoinPath(o.warehouse, out->claim->path);
  }
  log.forgotten_at_ns = clock->NowNs();
  log.forgotten_at = UtcTime(log.forgotten_at_ns).Rfc3339();
  log.reason = o.reason;
  log.instance = out->instance;
  File manifests;
  s = env->OpenDir(o.manifests, &manifests);
  if (s.ok()) s = AppendToLog(env, manifests, FormatForgetLine(log));
  if (!s.ok()) {
    return Status::IOError("cannot record the forget in " +
                               JoinPath(o.manifests, std::string(kForgottenLogName)) + ": " +
                               s.message(),
                           s.err());
  }
  if (claims && !out->claim && out->content && !out->instance.empty() &&
      IsInside(out->content->path, o.warehouse)) {
    // This instance's own claim, which its index does not hold: released
    // whichever of its commits took it.
    out->claim = Claim{sha, out->instance, std::string(kAnyIntent), out->content->size,
                       out->content->path.substr(o.warehouse.size() + 1)};
  }
  if (out->claim) {
    s = claims->Release({*out->claim}, /*sync=*/true);
    if (!s.ok()) return s;
  }
  ForgetRecord tomb{log.path, log.forgotten_at_ns, o.reason};
  return state->Apply(
      {{keys::Content(sha), std::nullopt}, {keys::Forgotten(sha), EncodeForgetRecord(tomb)}},
      /*sync=*/true);
}

}  // namespace ingest
