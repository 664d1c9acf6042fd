#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "env.h"
#include "records.h"
#include "state_store.h"
#include "status.h"

namespace ingest {

// The intents of the batches being committed, in an append-only file beside
// the state database, <state-path>/intents. They live there rather than in
// the database because each is written once and dropped a moment later: in
// LevelDB every one cost a memtable entry, a tombstone and a compaction.
//
// Format: one frame per batch, appended at step I and durable (fdatasync,
// or the syncfs of step B1) before any of its files moves:
//   "AIJ1", the batch number and the payload's length (8 bytes each,
//   little-endian), the SHA-256 of the batch number's bytes and the payload
//   (64 hex digits), then the payload: a varint count and, per intent, its
//   id and its EncodeIntent() bytes as length-prefixed strings.
// Batch numbers rise by one per frame. A batch is closed once its step C
// has landed: that synced state write raises the state's mark
// (keys::kIntentsClosed) to the batch's number, and only ever from the
// number just below it, so every frame at or below the mark is closed and
// every frame above it is open. A frame that does not check out ends the
// journal: it is the torn tail of a batch whose I never became durable, so
// none of its files moved (M waits for I). The file is emptied only when
// every frame in it is closed, so nothing valid ever follows a torn frame.
//
// Recovery copies the open intents into the state (i/ keys, where a commit
// that cannot be finished stays from pass to pass) in one synced write that
// also raises the mark past them, and then empties the file.
class IntentJournal {
 public:
  static constexpr std::string_view kFileName = "intents";

  struct OpenIntent {
    std::string id;
    Intent intent;
  };

  // Between batches, the file is emptied once it holds `reset_bytes`.
  IntentJournal(Env* env, StateStore* state, uint64_t reset_bytes)
      : env_(env), state_(state), reset_bytes_(reset_bytes) {}

  // Opens <state_dir>/intents for appending, creating it (and making its
  // name durable) when missing, and reads the mark.
  Status Open(const File& state_dir);

  // The intents of every open batch, in the order they were written, plus
  // the highest batch number in the file.
  Status ReadOpen(std::vector<OpenIntent>* open, uint64_t* last_batch);

  // For recovery: moves the open intents into the state (one synced write
  // that also raises the mark past every batch in the file) and empties the
  // file. *moved gets their number.
  Status MoveOpenToState(size_t* moved);

  // Step I: appends one batch's intents, and with `sync` makes them durable
  // (fdatasync); without, the caller must sync the journal's filesystem
  // (dev()) before it relies on them. *batch gets the batch's number.
  // Called by one thread at a time, and only after MoveOpenToState(): a
  // batch number must never repeat one in the file.
  Status Append(const std::vector<std::pair<std::string_view, const Intent*>>& intents, bool sync,
                uint64_t* batch);

  // Step C: adds to `writes` the put that closes `batch`, unless an earlier
  // batch is still open (then the batch stays open in the journal, and
  // recovery, whose every step is idempotent, finishes it again). Call
  // Closed() once `writes` has landed.
  void AddCloseWrite(uint64_t batch, std::vector<StateWrite>* writes) const;
  void Closed(uint64_t batch);

  // Empties the file when every batch appended is closed and the file holds
  // at least `min_bytes`; otherwise does nothing.
  Status ResetIfClosed(uint64_t min_bytes);
  // The filesystem the file is on (st_dev).
  uint64_t dev() const { return dev_; }
  // The file's size, and the size at which to empty it between batches.
  uint64_t bytes() const;
  uint64_t reset_bytes() const { return reset_bytes_; }

 private:
  bool AllClosed(uint64_t min_bytes) const;

  Env* const env_;
  StateStore* const state_;
  const uint64_t reset_bytes_;
  File file_;
  mutable std::mutex mu_;
  uint64_t closed_ = 0;    // the mark: every batch up to it is closed
  uint64_t appended_ = 0;  // the last batch appended
  uint64_t bytes_ = 0;     // the file's size
  uint64_t dev_ = 0;
  std::string frame_;  // reused for each append
  bool recovered_ = false;
};

// Reads the journal at <state_dir>/intents without changing anything, for
// `status`, which may run beside a pass: the number of intents in open
// batches (0 when there is no file). A frame still being appended is not
// counted.
Status CountOpenIntents(Env* env, const File& state_dir, StateStore* state, uint64_t* count);

}  // namespace ingest
