#include "state_layout.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mem_state_store.h"
#include "records.h"

namespace ingest {
namespace {

std::map<std::string, std::string> All(MemStateStore* state) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(state
                  ->Scan("",
                         [&](std::string_view k, std::string_view v) {
                           out.emplace(k, v);
                           return true;
                         })
                  .ok());
  return out;
}

TEST(StateLayoutTest, RewritesDeviceKeysAndKeepsEveryRecord) {
  MemStateStore state;
  const std::string pos("\x80\0\0\0\0\0\0\x05", 8);
  ASSERT_TRUE(state
                  .Apply({{"s/64769:131/" + pos + "a.csv", "snap-a"},
                          {"s/64769:131/" + pos + "b:c.csv", "snap-b"},
                          {"f/64769:131/x.csv", "fail-x"},
                          {"m/cursor/64769:131", "cursor"},
                          {"c/abc", "content"},
                          {"i/0001", "intent"},
                          {"m/last_pass", "{}"}},
                         false)
                  .ok());
  ASSERT_TRUE(UpgradeStateLayout(&state).ok());
  const std::map<std::string, std::string> want{{keys::Snapshot(131, 5, "a.csv"), "snap-a"},
                                                {keys::Snapshot(131, 5, "b:c.csv"), "snap-b"},
                                                {keys::Failure(131, "x.csv"), "fail-x"},
                                                {keys::Cursor(131), "cursor"},
                                                {"c/abc", "content"},
                                                {"i/0001", "intent"},
                                                {"m/last_pass", "{}"},
                                                {std::string(keys::kLayout), "2"}};
  EXPECT_EQ(All(&state), want);
}

TEST(StateLayoutTest, LeavesCurrentKeysAlone) {
  MemStateStore state;
  // A name that looks like "<dev>:" must not be taken for an old key.
  const std::string key = keys::Snapshot(131, 0, "7:8");
  const std::string failure = keys::Failure(131, "12:34.csv");
  ASSERT_TRUE(state.Apply({{key, "v"}, {failure, "w"}}, false).ok());
  ASSERT_TRUE(UpgradeStateLayout(&state).ok());
  EXPECT_EQ(All(&state).size(), 3u);
  std::string v;
  EXPECT_TRUE(state.Get(key, &v).ok());
  EXPECT_TRUE(state.Get(failure, &v).ok());
}

TEST(StateLayoutTest, FinishesARewriteCutShort) {
  MemStateStore state;
  // A crash part-way left both forms of one key and no layout mark.
  ASSERT_TRUE(state
                  .Apply({{"f/9:131/x.csv", "fail-x"},
                          {keys::Failure(131, "x.csv"), "fail-x"},
                          {"f/9:131/y.csv", "fail-y"}},
                         false)
                  .ok());
  ASSERT_TRUE(UpgradeStateLayout(&state).ok());
  const std::map<std::string, std::string> want{{keys::Failure(131, "x.csv"), "fail-x"},
                                                {keys::Failure(131, "y.csv"), "fail-y"},
                                                {std::string(keys::kLayout), "2"}};
  EXPECT_EQ(All(&state), want);
}

TEST(StateLayoutTest, MarksTheLayoutDurably) {
  MemStateStore state;
  ASSERT_TRUE(UpgradeStateLayout(&state).ok());
  state.DropUnsynced();
  std::string v;
  ASSERT_TRUE(state.Get(keys::kLayout, &v).ok());
  EXPECT_EQ(v, "2");
}

}  // namespace
}  // namespace ingest
