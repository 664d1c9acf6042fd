#include "stat_ahead.h"

#include <algorithm>

namespace ingest {

StatAhead::StatAhead(Env* env, const File* dir, DirScanner* scanner, ThreadPool* pool,
                     size_t threads, std::function<bool(const DirEntry&)> wanted)
    : env_(env),
      dir_(dir),
      scanner_(scanner),
      pool_(pool),
      threads_(std::min(threads, kMaxThreads)),
      wanted_(std::move(wanted)) {}

Status StatAhead::Fill() {
  chunk_.clear();
  next_ = 0;
  while (chunk_.size() < kChunk) {
    DirEntry e;
    bool done = false;
    Status s = scanner_->Next(&e, &done);
    if (!s.ok()) return s;
    if (done) {
      eof_ = true;
      break;
    }
    Item& item = chunk_.emplace_back();
    item.entry = e;
    item.name.assign(e.name);
    item.stat = wanted_(e);
  }
  // Names are pointed at once the vector no longer moves.
  for (Item& item : chunk_) item.entry.name = item.name;
  // Contiguous slices, a few per thread, so that a slow stat (a cold
  // inode) does not leave the other threads idle.
  const size_t slices = threads_ * 4;
  const size_t per = (chunk_.size() + slices - 1) / slices;
  pool_->ParallelFor(slices, threads_, [&](size_t k) {
    for (size_t i = k * per; i < std::min(chunk_.size(), (k + 1) * per); ++i) {
      Item& item = chunk_[i];
      if (item.stat) item.result.status = env_->StatAt(*dir_, item.name, &item.result.st);
    }
  });
  return Status::OK();
}

Status StatAhead::Next(DirEntry* entry, const PreStat** prestat, bool* done) {
  *prestat = nullptr;
  if (threads_ <= 1) return scanner_->Next(entry, done);
  if (next_ == chunk_.size()) {
    if (eof_) {
      *done = true;
      return Status::OK();
    }
    Status s = Fill();
    if (!s.ok()) return s;
    if (chunk_.empty()) {
      *done = true;
      return Status::OK();
    }
  }
  Item& item = chunk_[next_++];
  *entry = item.entry;
  if (item.stat) *prestat = &item.result;
  *done = false;
  return Status::OK();
}

}  // namespace ingest
