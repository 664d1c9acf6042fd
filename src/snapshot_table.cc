#include "snapshot_table.h"

namespace ingest {

namespace {

constexpr size_t kFlushEvery = 1024;
constexpr uint64_t kStatusEvery = 256;

}  // namespace

SnapshotTable::SnapshotTable(StateStore* store, uint64_t dir_ino, bool writable)
    : store_(store), prefix_(keys::SnapshotDir(dir_ino)), writable_(writable) {}

std::string SnapshotTable::Key(int64_t pos, std::string_view name) const {
  std::string key = prefix_;
  keys::AppendSnapshotSuffix(pos, name, &key);
  return key;
}

void SnapshotTable::Begin(int64_t start) {
  it_ = store_->NewIterator();
  last_key_ = Key(start, "");
  it_->Seek(last_key_);
  ordered_ = true;
}

void SnapshotTable::Prune(std::string_view key) {
  if (!writable_) return;
  writes_.push_back({std::string(key), std::nullopt});
  ++pruned_;
}

Status SnapshotTable::Find(int64_t pos, std::string_view name, std::optional<Snapshot>* out) {
  out->reset();
  // Built in place of the previous key's buffer: this runs once per entry
  // of every listing.
  std::string& key = next_key_;
  key.assign(prefix_);
  keys::AppendSnapshotSuffix(pos, name, &key);
  if (key <= last_key_) {
    // Out of order (or a repeat): look it up directly, and stop pruning for
    // this pass, since skipped keys may yet be listed.
    ordered_ = false;
    it_->Seek(key);
  } else if (ordered_) {
    // Sweep forward; what lies between the previous entry and this one was
    // not listed.
    while (it_->Valid() && it_->key() < key) {
      if (!it_->key().starts_with(prefix_)) break;
      Prune(it_->key());
      it_->Next();
    }
  } else {
    it_->Seek(key);
  }
  last_key_.swap(key);
  // A damaged table block does not end LevelDB's iteration: it records the
  // error and skips ahead. Asking for the status walks every level, so it
  // is asked every so often, at the end, and where a sweep ran out; entries
  // decided meanwhile only lack their hint.
  if (++finds_ % kStatusEvery == 0 || !it_->Valid()) {
    Status s = it_->status();
    if (!s.ok()) return s;
  }
  if (it_->Valid() && it_->key() == last_key_) {
    Snapshot s;
    if (DecodeSnapshot(it_->value(), &s)) {
      *out = std::move(s);
    } else {
      Prune(last_key_);  // an undecodable hint is dropped, never trusted
    }
    it_->Next();
  }
  return writes_.size() >= kFlushEvery ? Flush() : Status::OK();
}

void SnapshotTable::Put(int64_t pos, std::string_view name, const Snapshot& s) {
  if (!writable_) return;
  writes_.push_back({Key(pos, name), EncodeSnapshot(s)});
}

Status SnapshotTable::End() {
  if (ordered_) {
    for (; it_->Valid() && it_->key().starts_with(prefix_); it_->Next()) {
      Prune(it_->key());
    }
  }
  Status s = it_->status();
  if (!s.ok()) return s;
  return Flush();
}

Status SnapshotTable::Flush() {
  if (writes_.empty()) return Status::OK();
  Status s = store_->Apply(writes_, /*sync=*/false);
  writes_.clear();
  return s;
}

}  // namespace ingest
