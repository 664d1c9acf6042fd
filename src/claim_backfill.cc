#include "claim_backfill.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <string>

#include "claims.h"
#include "fs_util.h"
#include "records.h"

namespace ingest {

Status BackfillClaims(PassContext* ctx) {
  std::string done;
  Status s = ctx->state->Get(keys::kClaimsDone, &done);
  if (s.ok() || !s.IsNotFound() || ctx->claims == nullptr) return s.IsNotFound() ? Status::OK() : s;
  const std::string& wh = ctx->warehouse.path();
  uint64_t claimed = 0;
  Status step;
  s = ctx->state->Scan(keys::kContent, [&](std::string_view key, std::string_view value) {
    ContentRecord r;
    if (!DecodeContentRecord(value, &r)) {
      step = Status::Corruption("state: undecodable content record " + std::string(key));
      return false;
    }
    // A record from before the warehouse moved names no file in it.
    if (!IsInside(r.path, wh) || r.path.size() <= wh.size() + 1) return true;
    const Claim c{std::string(key.substr(keys::kContent.size())), ctx->claim_owner, "before-claims",
                  r.size, r.path.substr(wh.size() + 1)};
    std::optional<Claim> holder;
    step = ctx->claims->Take(c, &holder);
    if (step.ok() && holder) {
      spdlog::warn("{} was ingested by instance {} too, before claims existed", r.path,
                   holder->owner);
    }
    claimed += step.ok() && !holder;
    return step.ok();
  });
  if (s.ok()) s = step;
  if (s.ok() && claimed > 0) s = ctx->env->SyncFs(ctx->warehouse);
  if (s.ok()) s = ctx->state->Apply({{std::string(keys::kClaimsDone), "1"}}, /*sync=*/true);
  if (s.ok() && claimed > 0) {
    spdlog::info("claimed {} contents ingested before claims existed", claimed);
  }
  return s;
}

}  // namespace ingest
