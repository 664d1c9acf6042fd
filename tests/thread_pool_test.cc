#include "thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ingest {
namespace {

// Runs a loop of `n` items at `width` and returns how often each index ran.
std::vector<int> CountCalls(ThreadPool* pool, size_t n, size_t width) {
  std::vector<std::atomic<int>> calls(n);
  pool->ParallelFor(n, width, [&](size_t i) { calls[i].fetch_add(1); });
  std::vector<int> out;
  for (auto& c : calls) out.push_back(c.load());
  return out;
}

TEST(ThreadPoolTest, EveryIndexRunsExactlyOnce) {
  ThreadPool pool(4);
  for (size_t width : {1, 2, 4, 16}) {
    for (size_t n : {0, 1, 7, 1000}) {
      EXPECT_EQ(CountCalls(&pool, n, width), std::vector<int>(n, 1))
          << "width " << width << ", " << n << " items";
    }
  }
}

TEST(ThreadPoolTest, WidthOneRunsInOrderOnTheCallersThreadAndStartsNoThread) {
  ThreadPool pool(4);
  std::vector<size_t> order;
  std::set<std::thread::id> threads;
  pool.ParallelFor(100, 1, [&](size_t i) {
    order.push_back(i);
    threads.insert(std::this_thread::get_id());
  });
  ASSERT_EQ(order.size(), 100u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
  EXPECT_EQ(pool.threads(), 0u);
}

// Items that each wait until `width` threads are inside the loop at once:
// the loop only ends promptly if the pool really lends width - 1 threads.
TEST(ThreadPoolTest, HelpersRunItemsAtTheSameTime) {
  constexpr size_t kWidth = 3;
  ThreadPool pool(8);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::thread::id> inside;
  bool all_met = false;
  pool.ParallelFor(kWidth, kWidth, [&](size_t) {
    std::unique_lock<std::mutex> lock(mu);
    inside.insert(std::this_thread::get_id());
    if (inside.size() == kWidth) cv.notify_all();
    all_met = cv.wait_for(lock, std::chrono::seconds(30), [&] { return inside.size() == kWidth; });
  });
  EXPECT_TRUE(all_met);
  EXPECT_EQ(inside.size(), kWidth);
  EXPECT_EQ(pool.threads(), kWidth - 1);
}

TEST(ThreadPoolTest, ThreadsStayWithinTheLimitAndAreReused) {
  ThreadPool pool(2);
  for (int round = 0; round < 50; ++round) {
    EXPECT_EQ(CountCalls(&pool, 64, 16), std::vector<int>(64, 1));
  }
  EXPECT_LE(pool.threads(), 2u);
}

TEST(ThreadPoolTest, LoopsFromSeveralThreadsAtOnceAllFinish) {
  ThreadPool pool(3);
  constexpr int kCallers = 4;
  constexpr size_t kItems = 2000;
  std::vector<std::vector<int>> results(kCallers);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        std::vector<int> counts = CountCalls(&pool, kItems, 4);
        if (counts != std::vector<int>(kItems, 1)) {
          results[c] = counts;
          return;
        }
      }
      results[c] = std::vector<int>(kItems, 1);
    });
  }
  for (std::thread& t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) {
    EXPECT_EQ(results[c], std::vector<int>(kItems, 1)) << "caller " << c;
  }
  EXPECT_LE(pool.threads(), 3u);
}

}  // namespace
}  // namespace ingest
