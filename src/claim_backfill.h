#pragma once

#include "pass_context.h"
#include "status.h"

namespace ingest {

// Claims, once, every content this instance ingested before claims existed
// (its content index, written by versions that took none), so that no
// instance sharing the warehouse ingests one of them again. The claims are
// made durable, then the state records that it is done (m/claims). A
// content another instance has claimed meanwhile was ingested by both
// before; it is reported and left alone.
Status BackfillClaims(PassContext* ctx);

}  // namespace ingest
