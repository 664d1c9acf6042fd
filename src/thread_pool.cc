#include "thread_pool.h"

#include <algorithm>

namespace ingest {

ThreadPool::ThreadPool(size_t max_threads) : max_threads_(max_threads) {}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

size_t ThreadPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

void ThreadPool::RunItems(Loop* loop) {
  for (size_t i; (i = loop->next.fetch_add(1, std::memory_order_relaxed)) < loop->n;) {
    (*loop->fn)(i);
  }
}

ThreadPool::Loop* ThreadPool::FindLoop() {
  for (Loop* loop : loops_) {
    if (loop->helpers < loop->max_helpers && loop->next.load(std::memory_order_relaxed) < loop->n) {
      return loop;
    }
  }
  return nullptr;
}

void ThreadPool::HelperMain() {
  std::unique_lock<std::mutex> lock(mu_);
  --starting_;
  for (;;) {
    Loop* loop = nullptr;
    ++idle_;
    work_cv_.wait(lock, [&] { return stop_ || (loop = FindLoop()) != nullptr; });
    --idle_;
    if (stop_) return;
    ++loop->helpers;
    lock.unlock();
    RunItems(loop);
    lock.lock();
    // The caller waits for this before its loop goes out of scope.
    if (--loop->helpers == 0) done_cv_.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t n, size_t width, const std::function<void(size_t)>& fn) {
  width = std::min(width, n);
  if (width <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  Loop loop;
  loop.fn = &fn;
  loop.n = n;
  loop.max_helpers = width - 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    loops_.push_back(&loop);
    // Start threads until this loop could have all its helpers, should the
    // others be busy elsewhere.
    try {
      while (threads_.size() < max_threads_ && idle_ + starting_ < loop.max_helpers) {
        threads_.emplace_back([this] { HelperMain(); });
        ++starting_;
      }
    } catch (...) {
      // Out of threads or memory: those running, and the caller, do the
      // work.
    }
  }
  work_cv_.notify_all();
  RunItems(&loop);
  std::unique_lock<std::mutex> lock(mu_);
  loops_.erase(std::find(loops_.begin(), loops_.end(), &loop));
  done_cv_.wait(lock, [&] { return loop.helpers == 0; });
}

}  // namespace ingest
