#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace ingest {

// A blocking FIFO of at most `capacity` items. Push blocks while full; Pop
// blocks while empty until Close(). Thread-safe.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Returns false when the queue was closed.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!closed_ && items_.size() >= capacity_) {
      ++waiting_pushers_;
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      --waiting_pushers_;
    }
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() > peak_) peak_ = items_.size();
    // A popper waiting for several items is woken once they are there.
    if (items_.size() >= wake_at_) not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for an item. Empty when the wait timed out or the
  // queue is closed and drained; *closed tells which.
  std::optional<T> Pop(std::chrono::milliseconds timeout, bool* closed) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    *closed = closed_ && items_.empty();
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    WakePushers();
    return item;
  }

  // Waits up to `timeout` until `want` items are queued (or the queue is
  // closed), then appends up to `want` of them to *out. For one consumer:
  // the producers wake it once, not for every item.
  void PopUpTo(size_t want, std::chrono::milliseconds timeout, std::vector<T>* out, bool* closed) {
    std::unique_lock<std::mutex> lock(mu_);
    want = std::max<size_t>(1, std::min(want, capacity_));
    // Pushers held back until the queue is half empty would never bring
    // the items waited for.
    if (items_.size() < want && waiting_pushers_ > 0) not_full_.notify_all();
    wake_at_ = want;
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || items_.size() >= want; });
    wake_at_ = 1;
    *closed = closed_ && items_.size() <= want;
    for (size_t n = std::min(want, items_.size()); n > 0; --n) {
      out->push_back(std::move(items_.front()));
      items_.pop_front();
    }
    WakePushers();
  }

  // No more pushes; poppers drain what is left.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t peak() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
  }

 private:
  // A full queue wakes its pushers once it is half empty, so that they
  // refill it in a burst instead of one wake-up per item.
  void WakePushers() {
    if (waiting_pushers_ > 0 && items_.size() <= capacity_ / 2) not_full_.notify_all();
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  size_t peak_ = 0;
  size_t wake_at_ = 1;  // queue length at which Push wakes a popper
  int waiting_pushers_ = 0;
  bool closed_ = false;
};

}  // namespace ingest
