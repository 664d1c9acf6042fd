#include "claim_backfill.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <vector>

#include "claims.h"
#include "fs_util.h"
#include "records.h"

namespace ingest {

namespace {

constexpr size_t kBackfillChunk = 4096;

// Takes `claims` in one append to the claim log; counts those taken into
// `claimed`.
Status TakeAll(PassContext* ctx, const std::vector<Claim>& claims, uint64_t* claimed) {
  if (claims.empty()) return Status::OK();
  std::vector<ClaimRequest> requests;
  requests.reserve(claims.size());
  for (const Claim& c : claims) requests.push_back({c, std::nullopt});
  std::vector<std::optional<Claim>> holders;
  Status s = ctx->claims->Take(requests, &holders, /*sync=*/true);
  for (size_t i = 0; s.ok() && i < claims.size(); ++i) {
    if (holders[i]) {
      spdlog::warn("{} was ingested by instance {} too, before claims existed",
                   JoinPath(ctx->warehouse.path(), claims[i].path), holders[i]->owner);
    }
    *claimed += !holders[i];
  }
  return s;
}

}  // namespace

Status BackfillClaims(PassContext* ctx) {
  std::string done;
  Status s = ctx->state->Get(keys::kClaimsDone, &done);
  if (s.ok() || !s.IsNotFound() || ctx->claims == nullptr) return s.IsNotFound() ? Status::OK() : s;
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
                          "before-claims", r.size, r.path.substr(wh.size() + 1)});
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
