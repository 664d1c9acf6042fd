#pragma once

#include <cstdint>
#include <string>

#include "env.h"

namespace ingest {

struct VerifyOptions {
  std::string manifests;
  std::string warehouse;
  std::string since;  // "YYYY-MM-DD" or empty: inclusive bounds on the ingest date
  std::string until;
};

struct VerifyStats {
  uint64_t records = 0;
  uint64_t ok = 0;
  uint64_t missing = 0;
  uint64_t corrupted = 0;
  uint64_t unlisted = 0;
  uint64_t bad_lines = 0;
  // Records whose file is gone but whose content a later record ingested
  // again (its "reingest_of" names the path): not a problem.
  uint64_t reingested = 0;
};

// Re-hashes every warehouse file that the manifests list for ingest dates
// in [since, until], and lists the files in the matching ingest_date=
// partitions that no manifest names. Each problem is printed on stdout as
// one line: "missing PATH", "corrupted PATH: manifest says X, content is Y",
// "unlisted PATH", "bad-line MANIFEST:LINE"; and, for a missing file whose
// content was ingested again, "reingested PATH as NEWPATH".
Status Verify(Env* env, const VerifyOptions& options, VerifyStats* stats);

}  // namespace ingest
