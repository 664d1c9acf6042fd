#pragma once

#include <cstdint>
#include <string>

namespace ingest {

enum class Mode { kStability, kSidecar };
enum class OnDuplicate { kQuarantine, kDelete, kKeep };

// Everything a pass needs from the command line, already validated by
// ParseCommandLine(). Paths are absolute and lexically normal.
struct Options {
  std::string input;
  std::string warehouse;
  std::string manifests;
  std::string state_path;
  Mode mode = Mode::kStability;
  int64_t stability_seconds = 30;
  int concurrency = 2;
  int batch_size = 1000;
  OnDuplicate on_duplicate = OnDuplicate::kQuarantine;
  bool dry_run = false;
  std::string log_level = "info";
  std::string log_format = "text";
};

}  // namespace ingest
