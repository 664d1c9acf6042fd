#include "state_shard.h"

#include <gtest/gtest.h>

#include <string>

#include "mem_state_store.h"
#include "records.h"

namespace ingest {
namespace {

Options WithShard(uint32_t k, uint32_t n) {
  Options o;
  o.state_path = "/var/lib/atomic-ingest/main";
  o.shard = n == 0 ? Shard{} : Shard{k, n};
  return o;
}

std::string Recorded(MemStateStore* state) {
  std::string v;
  return state->Get(keys::kShard, &v).ok() ? v : "";
}

TEST(StateShardTest, FirstShardedRunRecordsItsShard) {
  MemStateStore state;
  ASSERT_TRUE(BindStateShard(&state, WithShard(1, 2), /*write=*/true).ok());
  EXPECT_EQ(Recorded(&state), "1/2");
  EXPECT_TRUE(BindStateShard(&state, WithShard(1, 2), /*write=*/true).ok());
}

TEST(StateShardTest, ReadersNeverRecord) {
  MemStateStore state;
  ASSERT_TRUE(BindStateShard(&state, WithShard(1, 2), /*write=*/false).ok());
  EXPECT_EQ(Recorded(&state), "");
}

TEST(StateShardTest, AnotherShardOrNoneIsRefusedWithTheWayOut) {
  MemStateStore state;
  ASSERT_TRUE(BindStateShard(&state, WithShard(0, 2), /*write=*/true).ok());
  for (const Options& o : {WithShard(1, 2), WithShard(0, 3), WithShard(0, 0)}) {
    Status s = BindStateShard(&state, o, /*write=*/true);
    ASSERT_TRUE(s.IsInvalidArgument()) << o.shard.ToString();
    EXPECT_NE(s.ToString().find("/var/lib/atomic-ingest/main"), std::string::npos);
    EXPECT_NE(s.ToString().find("serves shard 0/2, not "), std::string::npos) << s.ToString();
    EXPECT_NE(s.ToString().find("rebuild-state --shard K/N"), std::string::npos);
  }
  EXPECT_EQ(Recorded(&state), "0/2");
}

TEST(StateShardTest, UnshardedStateTakesAShardOnlyBeforeItIngested) {
  MemStateStore state;
  ASSERT_TRUE(BindStateShard(&state, WithShard(0, 0), /*write=*/true).ok());
  ASSERT_TRUE(state.Apply({{std::string(keys::kLastPass), "{}"}}, true).ok());
  ASSERT_TRUE(BindStateShard(&state, WithShard(0, 0), /*write=*/true).ok());
  ASSERT_TRUE(state.Apply({{keys::Content(std::string(64, 'a')), "x"}}, true).ok());
  Status s = BindStateShard(&state, WithShard(0, 2), /*write=*/true);
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.ToString().find("serves no shard, not shard 0/2 (--shard 0/2)"), std::string::npos)
      << s.ToString();
  EXPECT_TRUE(BindStateShard(&state, WithShard(0, 0), /*write=*/true).ok());
}

TEST(StateShardTest, RebuildRecordsTheShard) {
  MemStateStore state;
  ASSERT_TRUE(state.Apply({{keys::Content(std::string(64, 'a')), "x"}}, true).ok());
  ASSERT_TRUE(RecordStateShard(&state, WithShard(1, 4)).ok());
  EXPECT_TRUE(BindStateShard(&state, WithShard(1, 4), /*write=*/true).ok());
}

}  // namespace
}  // namespace ingest
