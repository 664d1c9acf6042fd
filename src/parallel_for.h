#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace ingest {

// Calls fn(i) for every i in [0, n), on up to `threads` threads (the
// caller's among them), and returns once all calls have. With one thread,
// or one item, the calls run in order on the caller's thread. For work that
// waits on the disk rather than the CPU: threads are created per call.
// `fn` must not throw.
template <typename Fn>
void ParallelFor(size_t n, size_t threads, const Fn& fn) {
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto loop = [&] {
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) fn(i);
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  try {
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(loop);
  } catch (const std::system_error&) {
    // Out of threads: the ones started and the caller's do all the work.
  }
  loop();
  for (std::thread& t : pool) t.join();
}

}  // namespace ingest
