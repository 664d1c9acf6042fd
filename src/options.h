#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "shard.h"

namespace ingest {

enum class Mode { kStability, kSidecar };
enum class OnDuplicate { kQuarantine, kDelete, kKeep };

// Everything a pass needs from the command line, already validated by
// ParseCommandLine(). Paths are absolute and lexically normal. The initial
// values are the flags' defaults: the flag table (flags.h) and --help take
// them from Options{}.
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
  // Cut a pass short after this many complete files / seconds of listing
  // (0: no limit); the next run resumes the listing there.
  int64_t max_files = 0;
  int64_t max_seconds = 0;
  // Also scan subdirectories of the input (same mount, never through a
  // symlink).
  bool recursive = false;
  // --shard K/N: only the files of shard K are this instance's (shard.h);
  // count 0 without the flag.
  Shard shard;
  // Files smaller than this many bytes are never candidates (0: every
  // file, empty ones too): logrotate's `create` leaves empty files that
  // would otherwise all be one content.
  int64_t min_size = 0;
  // --exec: the post-ingest hook's argv, split once from the flag's text
  // (empty: no hooks), and its time limit.
  std::vector<std::string> exec_argv;
  int64_t exec_timeout_seconds = 300;
  // Where to write Prometheus metrics after each pass ("" for none).
  std::string metrics_file;
  // watch: seconds between full passes when no change and no stability
  // timer starts one sooner.
  int64_t interval_seconds = 300;
  // verify: inclusive bounds on the ingest date, "YYYY-MM-DD" or empty;
  // history: the same, or UTC times "YYYY-MM-DDTHH:MM[:SS]Z" (clock.h's
  // ParseUtcTime).
  std::string since;
  std::string until;
  // history: "text" (a line per file and a summary) or "json" (the
  // manifest records as they are).
  std::string format = "text";
  // status: one JSON document instead of text.
  bool json = false;
  // status: files listed per group; explain: records listed for a file
  // that left staging (0: all).
  int64_t limit = 20;
  // explain: the file to explain; forget: the file whose content to
  // forget, or that content's sha256 (64 hex digits, as given). A path is
  // absolute and lexically normal, with symlinks resolved in its directory
  // but not in its last component.
  std::string path;
  // forget: why, for the record.
  std::string reason;
  // Draw a live progress line (stderr is a terminal).
  bool progress_tty = false;
  std::string log_level = "info";
  std::string log_format = "text";
  // Where logs also go besides stderr ("" for nowhere else); absolute.
  std::string log_file;
  // Not a flag: the intent journal is emptied between batches once it is
  // this large (intent_journal.h). Tests lower it to exercise that.
  uint64_t journal_reset_bytes = 64ull << 20;
  // Not a flag: batches finish on the finisher thread, as with
  // --concurrency 2, while everything else keeps to one thread as with
  // --concurrency 1. The crash tests set it with --concurrency 1 to order
  // the two threads' operations themselves.
  bool pipelined_commit = false;
};

}  // namespace ingest
