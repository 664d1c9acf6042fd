#include "mem_state_store.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ingest {
namespace {

using namespace std::string_literals;
using KeyValues = std::vector<std::pair<std::string, std::string>>;

StateWrite Put(std::string key, std::string value) { return {std::move(key), std::move(value)}; }
StateWrite Delete(std::string key) { return {std::move(key), std::nullopt}; }

KeyValues ScanAll(MemStateStore& store, std::string_view prefix) {
  KeyValues out;
  Status s = store.Scan(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

std::string GetOr(MemStateStore& store, std::string_view key, std::string missing) {
  std::string value;
  Status s = store.Get(key, &value);
  if (s.IsNotFound()) return missing;
  EXPECT_TRUE(s.ok()) << s.ToString();
  return value;
}

TEST(MemStateStoreTest, MissingKeyIsNotFound) {
  MemStateStore store;
  std::string value = "untouched";
  Status s = store.Get("c/nothing", &value);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(value, "untouched");
}

TEST(MemStateStoreTest, ApplyPutsAndDeletes) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("a", "1"), Put("b", "2")}, false).ok());
  EXPECT_EQ(GetOr(store, "a", "-"), "1");
  EXPECT_EQ(GetOr(store, "b", "-"), "2");
  ASSERT_TRUE(store.Apply({Delete("a"), Put("b", "3")}, false).ok());
  EXPECT_EQ(GetOr(store, "a", "-"), "-");
  EXPECT_EQ(GetOr(store, "b", "-"), "3");
}

TEST(MemStateStoreTest, LaterWriteInABatchWins) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("k", "1"), Put("k", "2")}, false).ok());
  EXPECT_EQ(GetOr(store, "k", "-"), "2");
  ASSERT_TRUE(store.Apply({Put("k", "3"), Delete("k")}, false).ok());
  EXPECT_EQ(GetOr(store, "k", "-"), "-");
  ASSERT_TRUE(store.Apply({Delete("k"), Put("k", "4")}, false).ok());
  EXPECT_EQ(GetOr(store, "k", "-"), "4");
}

TEST(MemStateStoreTest, DeletingAMissingKeyIsFine) {
  MemStateStore store;
  EXPECT_TRUE(store.Apply({Delete("never")}, true).ok());
  EXPECT_EQ(ScanAll(store, "").size(), 0u);
}

TEST(MemStateStoreTest, EmptyValueIsAPutNotADelete) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("k", "")}, false).ok());
  EXPECT_EQ(GetOr(store, "k", "missing"), "");
}

TEST(MemStateStoreTest, BinaryKeysAndValuesAreKept) {
  MemStateStore store;
  const std::string key = "s/1:2/\xFF\0name"s;
  const std::string value = "\0\x01\x02"s;
  ASSERT_TRUE(store.Apply({Put(key, value)}, false).ok());
  EXPECT_EQ(GetOr(store, key, "-"), value);
  EXPECT_EQ(GetOr(store, "s/1:2/\xFF", "-"), "-");
}

TEST(MemStateStoreTest, ScanReturnsOnlyThePrefixInKeyOrder) {
  MemStateStore store;
  ASSERT_TRUE(store
                  .Apply({Put("s/1:2/b", "B"), Put("s/1:2/a", "A"), Put("s/1:23/x", "X"),
                          Put("s/1:2", "no slash"), Put("c/abc", "C"), Put("t/", "T")},
                         false)
                  .ok());
  EXPECT_EQ(ScanAll(store, "s/1:2/"), (KeyValues{{"s/1:2/a", "A"}, {"s/1:2/b", "B"}}));
  EXPECT_EQ(ScanAll(store, "c/"), (KeyValues{{"c/abc", "C"}}));
  EXPECT_EQ(ScanAll(store, "k/"), KeyValues{});
  EXPECT_EQ(ScanAll(store, "").size(), 6u);
  // A key equal to the prefix is part of it.
  EXPECT_EQ(ScanAll(store, "c/abc"), (KeyValues{{"c/abc", "C"}}));
}

TEST(MemStateStoreTest, ScanStopsWhenTheCallbackSaysSo) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("p/1", "1"), Put("p/2", "2"), Put("p/3", "3")}, false).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  .Scan("p/",
                        [&](std::string_view k, std::string_view) {
                          seen.emplace_back(k);
                          return seen.size() < 2;
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"p/1", "p/2"}));
}

TEST(MemStateStoreTest, CallbackMayWriteDuringAScan) {
  // The scan must not hold the store's lock while calling back.
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("i/1", "x"), Put("i/2", "y")}, false).ok());
  ASSERT_TRUE(store
                  .Scan("i/",
                        [&](std::string_view k, std::string_view) {
                          return store.Apply({Delete(std::string(k))}, false).ok();
                        })
                  .ok());
  EXPECT_EQ(ScanAll(store, "i/").size(), 0u);
}

TEST(MemStateStoreTest, DropUnsyncedWithoutAnySyncLosesEverything) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("a", "1")}, false).ok());
  store.DropUnsynced();
  EXPECT_EQ(GetOr(store, "a", "-"), "-");
}

TEST(MemStateStoreTest, DropUnsyncedKeepsSyncedWritesAndDropsLaterOnes) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("a", "1"), Put("b", "1")}, true).ok());
  ASSERT_TRUE(store.Apply({Put("a", "2"), Delete("b"), Put("c", "new")}, false).ok());
  EXPECT_EQ(GetOr(store, "a", "-"), "2");
  EXPECT_EQ(GetOr(store, "b", "-"), "-");

  store.DropUnsynced();
  EXPECT_EQ(GetOr(store, "a", "-"), "1");
  EXPECT_EQ(GetOr(store, "b", "-"), "1");
  EXPECT_EQ(GetOr(store, "c", "-"), "-");
  EXPECT_EQ(ScanAll(store, ""), (KeyValues{{"a", "1"}, {"b", "1"}}));
}

TEST(MemStateStoreTest, SyncedApplyMakesEarlierUnsyncedWritesDurable) {
  // As with LevelDB's sequential log, a sync covers everything before it.
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("early", "1")}, false).ok());
  ASSERT_TRUE(store.Apply({Put("late", "2")}, true).ok());
  store.DropUnsynced();
  EXPECT_EQ(GetOr(store, "early", "-"), "1");
  EXPECT_EQ(GetOr(store, "late", "-"), "2");
}

TEST(MemStateStoreTest, SyncedDeleteSurvivesDropUnsynced) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("a", "1")}, true).ok());
  ASSERT_TRUE(store.Apply({Delete("a")}, true).ok());
  ASSERT_TRUE(store.Apply({Put("a", "again")}, false).ok());
  store.DropUnsynced();
  EXPECT_EQ(GetOr(store, "a", "-"), "-");
}

TEST(MemStateStoreTest, DropUnsyncedTwiceIsTheSameAsOnce) {
  MemStateStore store;
  ASSERT_TRUE(store.Apply({Put("a", "1")}, true).ok());
  ASSERT_TRUE(store.Apply({Put("b", "2")}, false).ok());
  store.DropUnsynced();
  store.DropUnsynced();
  EXPECT_EQ(ScanAll(store, ""), (KeyValues{{"a", "1"}}));
  // The store stays usable after a simulated power loss.
  ASSERT_TRUE(store.Apply({Put("c", "3")}, true).ok());
  store.DropUnsynced();
  EXPECT_EQ(ScanAll(store, ""), (KeyValues{{"a", "1"}, {"c", "3"}}));
}

TEST(MemStateStoreTest, ApproximateSizeGrowsWithContent) {
  MemStateStore store;
  EXPECT_EQ(store.ApproximateSize(), 0u);
  ASSERT_TRUE(store.Apply({Put("key", std::string(1000, 'v'))}, false).ok());
  EXPECT_GE(store.ApproximateSize(), 1000u);
  ASSERT_TRUE(store.Apply({Delete("key")}, false).ok());
  EXPECT_EQ(store.ApproximateSize(), 0u);
}

}  // namespace
}  // namespace ingest
