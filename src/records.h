#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ingest {

// The state's key space. Every record starts with a format version byte.
// Directories are named by inode number alone: every staged directory is on
// the --input filesystem, and st_dev differs per mount and per client, so a
// key with it would not survive a remount or a takeover by another host.
//   c/<sha256>                    ContentRecord: the first ingest of a content
//   x/<sha256>                    ForgetRecord: the content was forgotten on
//                                 purpose (`forget`); its next delivery is
//                                 ingested again
//   i/<id>                        Intent: a commit that has not finished
//   h/<id>                        HookRecord: an --exec hook still to run for
//                                 an ingested file; <id> is its commit's
//                                 intent id (commit time, then plan order),
//                                 so hooks run in the order files committed
//   s/<dir ino>/<pos><name>
//                                 Snapshot: when a file's tuple was first seen;
//                                 <pos> is the entry's listing offset as 8
//                                 big-endian bytes, so the records of a
//                                 directory sort in the order it is listed
//   f/<dir ino>/<name>            FailureRecord: the last failure of a staged
//                                 file, a hint for `status` and `explain`;
//                                 written unsynced, outside any commit, and
//                                 removed when the file commits or leaves
//   m/cursor/<dir ino>            where a cut-short listing resumes
//   m/layout                      "2": keys name directories by inode alone
//                                 (state_layout.h upgrades older states)
//   m/claims                      "1": every content in c/ is claimed in the
//                                 warehouse (claim_backfill.h)
//   m/last_pass                   the last pass's summary (JSON)
//   m/intents_closed              Mark: every intent journal batch up to this
//                                 number is closed (intent_journal.h)
//   m/shard                       "K/N": the --shard this state serves
//                                 (state_shard.h); absent without one
namespace keys {
inline constexpr std::string_view kContent = "c/";
inline constexpr std::string_view kForgotten = "x/";
inline constexpr std::string_view kIntent = "i/";
inline constexpr std::string_view kHook = "h/";
inline constexpr std::string_view kSnapshot = "s/";
inline constexpr std::string_view kFailure = "f/";
inline constexpr std::string_view kCursor = "m/cursor/";
inline constexpr std::string_view kLayout = "m/layout";
// Set once this instance's contents are claimed in the claim log
// (BackfillClaims). "m/claims" marked the same for the claims of the
// earlier format, one name per content, which the log replaced.
inline constexpr std::string_view kClaimsDone = "m/claims_logged";
inline constexpr std::string_view kClaim = "k/";              // the claim log, folded
inline constexpr std::string_view kClaimLog = "m/claim_log";  // "<log id> <bytes folded>"
inline constexpr std::string_view kLastPass = "m/last_pass";
inline constexpr std::string_view kIntentsClosed = "m/intents_closed";
inline constexpr std::string_view kShard = "m/shard";

std::string Content(std::string_view sha256);
std::string Forgotten(std::string_view sha256);
std::string ClaimKey(std::string_view sha256);
std::string Intent(std::string_view id);
std::string Hook(std::string_view id);
std::string SnapshotDir(uint64_t dir_ino);  // prefix of Snapshot()
std::string Snapshot(uint64_t dir_ino, int64_t pos, std::string_view name);
// Appends what follows SnapshotDir() in a Snapshot() key.
void AppendSnapshotSuffix(int64_t pos, std::string_view name, std::string* key);
std::string Cursor(uint64_t dir_ino);
std::string FailureDir(uint64_t dir_ino);  // prefix of Failure()
std::string Failure(uint64_t dir_ino, std::string_view name);
}  // namespace keys

struct ContentRecord {
  std::string path;      // final warehouse path
  std::string source;    // original staging path
  std::string manifest;  // manifest file that holds its record
  uint64_t size = 0;
  int64_t ingested_at_ns = 0;
};

// A content forgotten on purpose: what its content record said, and when
// and why it was dropped. It keeps the state check (state_check.h) from
// taking the manifests' record of that content for a lost commit.
struct ForgetRecord {
  std::string path;  // the forgotten ingest's warehouse path
  int64_t forgotten_at_ns = 0;
  std::string reason;
};

// The (dev, ino, size, mtime, ctime) tuple of a staged file and when this
// exact tuple was first observed. Here and in the records below, a dev is
// the st_dev the writer saw, kept for diagnosis and never compared: it
// differs per mount, per client and after a remount. Inode numbers are
// compared only for a file found under a known directory and name.
struct Snapshot {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t first_seen_ns = 0;
  // Set for a duplicate left in staging (--on-duplicate keep): while the
  // tuple holds, the file is known and never hashed again.
  std::string kept_sha256;
};

// Why a staged file failed the last time a pass tried it, and how often in
// a row it has failed.
struct FailureRecord {
  std::string path;   // the staged path
  std::string error;  // the logged error
  int64_t at_ns = 0;  // when it last failed
  uint64_t attempts = 0;
  // The file's identity when it failed; 0 when it could not be examined.
  uint64_t dev = 0;
  uint64_t ino = 0;
  // The error's Status::Code and errno (0: none), which tell an error that
  // recurs from one that passes. A record written before they were kept
  // does not decode, and reads as absent until the file fails again.
  uint64_t code = 0;
  uint64_t err = 0;
};

enum class IntentAction : uint8_t { kIngest = 1, kQuarantine = 2, kDelete = 3 };

// A durable promise, written before anything moves, that says everything
// recovery needs to finish or undo one file's commit.
struct Intent {
  IntentAction action = IntentAction::kIngest;
  std::string sha256;
  // Where the file was staged and the inode that was hashed there.
  std::string src_dir;
  std::string src_name;
  uint64_t src_dev = 0;
  uint64_t src_ino = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  // Across filesystems: the hidden copy in the warehouse's temp directory.
  std::string tmp_dir;
  std::string tmp_name;
  // The inode that ends up at dest: the source itself, or the copy.
  uint64_t moved_dev = 0;
  uint64_t moved_ino = 0;
  // Final place (empty dest_dir for kDelete).
  std::string dest_dir;
  std::string dest_name;
  // Absolute manifest file and the exact line for it (kIngest only).
  std::string manifest_path;
  std::string manifest_line;
  // "<name>.ok" to remove once committed, or empty.
  std::string sidecar_name;
  // The source's snapshot record, removed with the commit.
  std::string snapshot_key;

  bool cross_fs() const { return !tmp_name.empty(); }
};

// A post-ingest hook (--exec) that has not succeeded yet. Written in the
// same synced state write as the content record of its file, and deleted
// once the hook exits 0: its absence is the record that the hook completed.
struct HookRecord {
  std::string path;  // warehouse path
  std::string sha256;
  std::string source;         // original staging path
  std::string manifest;       // manifest file that holds the record
  std::string manifest_line;  // the exact manifest line, newline included
  uint64_t size = 0;
  int64_t committed_at_ns = 0;
  uint64_t attempts = 0;  // failed runs so far
  std::string last_error;
  int64_t last_attempt_ns = 0;
};

std::string EncodeContentRecord(const ContentRecord& r);
bool DecodeContentRecord(std::string_view in, ContentRecord* r);
std::string EncodeForgetRecord(const ForgetRecord& r);
bool DecodeForgetRecord(std::string_view in, ForgetRecord* r);
std::string EncodeSnapshot(const Snapshot& s);
bool DecodeSnapshot(std::string_view in, Snapshot* s);
std::string EncodeFailureRecord(const FailureRecord& r);
bool DecodeFailureRecord(std::string_view in, FailureRecord* r);
std::string EncodeIntent(const Intent& i);
bool DecodeIntent(std::string_view in, Intent* i);
// At least EncodeIntent(i).size(), cheaply: for reserving a buffer.
size_t EncodedIntentBound(const Intent& i);
std::string EncodeMark(uint64_t n);
bool DecodeMark(std::string_view in, uint64_t* n);
std::string EncodeHookRecord(const HookRecord& h);
bool DecodeHookRecord(std::string_view in, HookRecord* h);

}  // namespace ingest
