#include "bounded_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace ingest {
namespace {

// Long enough never to pass on a loaded machine: a wait that runs out
// shows up as missing items, not as a slow test.
constexpr std::chrono::milliseconds kPatience(60000);

TEST(BoundedQueueTest, ItemsComeOutInOrderAndCloseEndsTheQueue) {
  BoundedQueue<int> q(8);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q.Push(i));
  bool closed = false;
  std::vector<int> got;
  q.PopUpTo(3, kPatience, &got, &closed);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  EXPECT_FALSE(closed);
  q.Close();
  EXPECT_FALSE(q.Push(9));
  std::optional<int> x = q.Pop(kPatience, &closed);
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(*x, 3);
  got.clear();
  q.PopUpTo(4, kPatience, &got, &closed);
  EXPECT_EQ(got, std::vector<int>{4});
  EXPECT_TRUE(closed);
  EXPECT_EQ(q.peak(), 5u);
}

// A full queue wakes its pushers only once half empty; a consumer that
// then waits for more items than are queued must still get them.
TEST(BoundedQueueTest, WaitingForMoreThanIsQueuedWakesHeldBackPushers) {
  constexpr int kCapacity = 4;
  constexpr int kItems = 40;
  BoundedQueue<int> q(kCapacity);
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.Push(i);
    q.Close();
  });
  // Let the producer fill the queue (it then blocks on the next push).
  while (q.peak() < kCapacity) std::this_thread::yield();
  std::vector<int> got;
  bool closed = false;
  q.PopUpTo(1, kPatience, &got, &closed);
  while (got.size() < kItems) {
    const size_t before = got.size();
    q.PopUpTo(kCapacity, kPatience, &got, &closed);
    ASSERT_EQ(got.size(), std::min<size_t>(kItems, before + kCapacity))
        << "a wait ran out after item " << before;
  }
  producer.join();
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(got[i], i);
}

}  // namespace
}  // namespace ingest
