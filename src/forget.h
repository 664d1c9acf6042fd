#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "claims.h"
#include "clock.h"
#include "env.h"
#include "options.h"
#include "records.h"
#include "state_store.h"

namespace ingest {

// The audit log of `forget`, in the manifest root beside the YYYY trees
// (which the manifest walkers alone read): one JSON object per line.
inline constexpr std::string_view kForgottenLogName = "forgotten.jsonl";

// One line of the forget log.
struct ForgetLogRecord {
  std::string sha256;
  std::string path;          // the forgotten ingest's warehouse path ("" if unknown)
  std::string source;        // its staging path ("" if unknown)
  std::string forgotten_at;  // RFC 3339, UTC
  int64_t forgotten_at_ns = 0;
  std::string reason;
  std::string instance;  // the claim owner of the state that forgot it
};

// What `forget` did.
struct ForgetResult {
  std::string sha256;
  // What this instance's state said of the content, if it knew it.
  std::optional<ContentRecord> content;
  // The warehouse claim released, if there was one.
  std::optional<Claim> claim;
  std::string instance;  // this state's claim owner
};

// Forgets a content on purpose, so that its next delivery, from any
// staging directory sharing the warehouse, is ingested again (say, a
// truncated upload that was ingested). `o.path` is the content's sha256 or
// a file holding it (in staging, in the warehouse, anywhere); `o.reason`
// says why. In this order, each step durable before the next:
//   1. a line in <manifests>/forgotten.jsonl (appended under flock: other
//      instances may share the manifest root), so the audit trail is whole;
//   2. the release of the content's warehouse claim;
//   3. in the state (whose run lock the caller holds): the content record
//      dropped, and a ForgetRecord kept (keys::Forgotten).
// A crash part-way is finished by running forget again. Warehouse files and
// manifest records are never touched. NotFound when neither the state nor
// the warehouse's claims know the content.
Status Forget(Env* env, Clock* clock, const Options& o, const File& state_dir, StateStore* state,
              ForgetResult* out);

// Renders and parses a line of the forget log.
std::string FormatForgetLine(const ForgetLogRecord& r);
bool ParseForgetLine(std::string_view line, ForgetLogRecord* r);

// The forget log under `manifests`: per content, its latest record. A
// missing log is empty; lines that are not records are skipped.
Status ReadForgetLog(Env* env, const File& manifests,
                     std::map<std::string, ForgetLogRecord>* latest);

}  // namespace ingest
