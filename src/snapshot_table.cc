#include "snapshot_table.h"

namespace ingest {

namespace {

constexpr size_t kFlushEvery = 1024;

}  // namespace

SnapshotTable::SnapshotTable(StateStore* store, uint64_t dir_dev, uint64_t dir_ino, bool writable)
    : store_(store),
      prefix_(keys::SnapshotDir(dir_dev, dir_ino)),
      dir_dev_(dir_dev),
      dir_ino_(dir_ino),
      writable_(writable) {}

std::string SnapshotTable::Key(int64_t pos, std::string_view name) const {
  return keys::Snapshot(dir_dev_, dir_ino_, pos, name);
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
  const std::string key = Key(pos, name);
  if (key <= last_key_) {
    // Out of order (or a repeat): look it up directly, and stop pruning for
    // this pass, since skipped keys may yet be listed.
    ordered_ = false;
    it_->Seek(key);
  } else if (ordered_) {
    // Sweep forward; what lies between the previous entry and this one was
    // not listed.
    while (it_->Valid() && it_->key() < key) {
      if (it_->key().substr(0, prefix_.size()) != prefix_) break;
      Prune(it_->key());
      it_->Next();
    }
  } else {
    it_->Seek(key);
  }
  last_key_ = key;
  if (!it_->status().ok()) return it_->status();
  if (it_->Valid() && it_->key() == key) {
    Snapshot s;
    if (DecodeSnapshot(it_->value(), &s)) {
      *out = std::move(s);
    } else {
      Prune(key);  // an undecodable hint is dropped, never trusted
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
    for (; it_->Valid() && it_->key().substr(0, prefix_.size()) == prefix_; it_->Next()) {
      Prune(it_->key());
    }
    if (!it_->status().ok()) return it_->status();
  }
  return Flush();
}

Status SnapshotTable::Flush() {
  if (writes_.empty()) return Status::OK();
  Status s = store_->Apply(writes_, /*sync=*/false);
  writes_.clear();
  return s;
}

}  // namespace ingest
