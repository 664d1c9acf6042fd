#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ingest {

// Threads that a pass starts once and lends to loops over its files: the
// stats taken ahead of the scan, the formatting of a batch's plan, the
// checks around its renames, its unlinks. (Started per loop instead, a
// 100,000-file pass across filesystems started about 1,700 threads.)
// Thread-safe: several threads may run loops at once, each getting
// helpers as they come free.
class ThreadPool {
 public:
  // Never more than `max_threads` threads; they start as loops first ask
  // for them.
  explicit ThreadPool(size_t max_threads);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Calls fn(i) for every i in [0, n), on the caller's thread and up to
  // `width` - 1 of the pool's, and returns once every call has returned.
  // With a width of 1, or one item, the calls run in order on the
  // caller's thread. `fn` must not throw.
  void ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn);

  // Threads started so far.
  size_t threads() const;

 private:
  struct Loop {
    const std::function<void(size_t)>* fn = nullptr;
    size_t n = 0;
    std::atomic<size_t> next{0};
    size_t helpers = 0;      // pool threads in it now
    size_t max_helpers = 0;  // width - 1
  };
  static void RunItems(Loop* loop);
  // A loop that can take one more helper, or null. mu_ is held.
  Loop* FindLoop();
  void HelperMain();

  const size_t max_threads_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // a loop wants helpers, or stop
  std::condition_variable done_cv_;  // a helper left a loop
  std::deque<Loop*> loops_;          // loops that may still take helpers
  std::vector<std::thread> threads_;
  size_t idle_ = 0;      // threads waiting for a loop
  size_t starting_ = 0;  // threads started that have not waited yet
  bool stop_ = false;
};

}  // namespace ingest
