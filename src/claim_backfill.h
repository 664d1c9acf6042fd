#pragma once

#include "pass_context.h"
#include "status.h"

namespace ingest {

// Once per instance, before its first pass that claims in the claim log:
// imports into the log the claims of the earlier format (one name per
// content, of every instance), then claims every content this instance's
// content index holds (kBackfillIntent: contents ingested before claims
// existed, or whose claim was lost), so that no instance sharing the
// warehouse ingests one of them again. A backfill take never replaces a
// claim. The claims are made durable, then the state records that it is
// done (m/claims_logged). A content another instance has claimed was
// ingested by both before; it is reported and left alone.
Status BackfillClaims(PassContext* ctx);

}  // namespace ingest
