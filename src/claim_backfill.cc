#include "claim_backfill.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cerrno>
#include <optional>
#include <string>
#include <vector>

#include "claims.h"
#include "dir_scanner.h"
#include "fs_util.h"
#include "records.h"
#include "sha256.h"

namespace ingest {

namespace {

constexpr size_t kBackfillChunk = 4096;
// A record file of the earlier format held at most 64 paths of PATH_MAX.
constexpr size_t kNamedClaimMax = 64 * 8192;

// Takes `claims` in one append to the claim log; counts those taken into
// `claimed`.
Status TakeAll(PassContext* ctx, const std::vector<Claim>& claims, uint64_t* claimed,
               bool report = true) {
  if (claims.empty()) return Status::OK();
  std::vector<ClaimRequest> requests;
  requests.reserve(claims.size());
  for (const Claim& c : claims) requests.push_back({c, std::nullopt});
  std::vector<std::optional<Claim>> holders;
  Status s = ctx->claims->Take(requests, &holders, /*sync=*/true);
  for (size_t i = 0; s.ok() && i < claims.size(); ++i) {
    if (holders[i] && report) {
      spdlog::warn("{} was ingested by instance {} too, before claims existed",
                   JoinPath(ctx->warehouse.path(), claims[i].path), holders[i]->owner);
    }
    *claimed += !holders[i];
  }
  return s;
}

// Claims of the format before the log, the names <sha[0:2]>/<sha256> in
// the claims directory, of every instance: each is taken in the log as it
// was (first wins, so a claim some instance logged since stays).
Status ImportNamedClaims(PassContext* ctx, uint64_t* imported) {
  File root;
  Status s = OpenDirs(ctx->env, ctx->warehouse, kClaimsDirName, &root);
  if (s.IsNotFound()) return Status::OK();
  std::vector<std::string> fans;
  if (s.ok()) s = ListSubdirectories(ctx->env, root, &fans);
  std::vector<Claim> chunk;
  for (const std::string& fan : fans) {
    if (!s.ok()) break;
    if (fan.size() != 2 || !std::isxdigit(static_cast<unsigned char>(fan[0])) ||
        !std::isxdigit(static_cast<unsigned char>(fan[1]))) {
      continue;  // records/, which the names link to
    }
    File dir;
    s = OpenDirs(ctx->env, root, fan, &dir);
    if (s.ok()) {
      s = ForEachEntry(ctx->env, dir, [&](const DirEntry& e) {
        const std::string name(e.name);
        // Takeover markers (<sha>.takeover-...) stand beside the claims.
        if (!IsSha256Hex(name) || name.compare(0, 2, fan) != 0) return Status::OK();
        std::string text;
        Status r = ReadSmallFile(ctx->env, dir, name, kNamedClaimMax, &text);
        if (!r.ok() && r.err() == ELOOP) r = ctx->env->ReadLink(dir, name, &text);
        Claim c;
        if (!r.ok() || !DecodeNamedClaim(name, text, &c)) {
          spdlog::warn("cannot import the content claim {}: {}", dir.Child(name),
                       r.ok() ? "not a claim atomic-ingest made" : r.ToString());
          return Status::OK();
        }
        chunk.push_back(std::move(c));
        if (chunk.size() < kBackfillChunk) return Status::OK();
        Status t = TakeAll(ctx, chunk, imported, /*report=*/false);
        chunk.clear();
        return t;
      });
    }
  }
  if (s.ok()) s = TakeAll(ctx, chunk, imported, /*report=*/false);
  return s;
}

}  // namespace

Status BackfillClaims(PassContext* ctx) {
  std::string done;
  Status s = ctx->state->Get(keys::kClaimsDone, &done);
  if (s.ok() || !s.IsNotFound() || ctx->claims == nullptr) return s.IsNotFound() ? Status::OK() : s;
  uint64_t imported = 0;
  s = ImportNamedClaims(ctx, &imported);
  if (!s.ok()) return s;
  if (imported > 0) {
    spdlog::info("imported {} content claims of the earlier format into the claim log", imported);
  }
  const std::string& wh = ctx->warehouse.path();
  uint64_t claimed = 0;
  std::vector<Claim> chunk;
  Status step;
  s = ctx->state->Scan(keys::kContent, [&](std::string_view key, std::string_view value) {
    ContentRecord r;
    if (!DecodeContentRecord(value, &r)) {
      step = Status::Corruption("state: undecodable content record " + std::string(key));
      return false;
    }
    // A record from before the warehouse moved names no file in it.
    if (!IsInside(r.path, wh) || r.path.size() <= wh.size() + 1) return true;
    chunk.push_back(Claim{std::string(key.substr(keys::kContent.size())), ctx->claim_owner,
                          std::string(kBackfillIntent), r.size, r.path.substr(wh.size() + 1)});
    if (chunk.size() < kBackfillChunk) return true;
    step = TakeAll(ctx, chunk, &claimed);
    chunk.clear();
    return step.ok();
  });
  if (s.ok()) s = step;
  if (s.ok()) s = TakeAll(ctx, chunk, &claimed);
  if (s.ok()) s = ctx->state->Apply({{std::string(keys::kClaimsDone), "1"}}, /*sync=*/true);
  if (s.ok() && claimed > 0) {
    spdlog::info("claimed {} contents ingested before claims existed", claimed);
  }
  return s;
}

}  // namespace ingest
