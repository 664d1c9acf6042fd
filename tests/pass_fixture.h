#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string>

#include "clock.h"
#include "env.h"
#include "ingest_pass.h"
#include "mem_state_store.h"
#include "options.h"
#include "test_support.h"
#include "warehouse.h"

namespace ingest {

// Passes over roots under one temporary directory (OptionsUnder: "in",
// "wh", "mf", "state"), with an in-memory state, one worker, and a clock a
// minute ahead so that every staged file is stable.
class PassFixture : public ::testing::Test {
 protected:
  explicit PassFixture(const std::string& name) : tmp_(name) {}

  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    base_ = tmp_.path();
    std::filesystem::create_directories(base_ / "in");
    std::filesystem::create_directories(base_ / "state");
    options_ = OptionsUnder(base_);
    options_.concurrency = 1;
  }

  // Stages `name` with `content` and runs one pass, which must succeed.
  PassStats Deliver(const std::string& name, const std::string& content) {
    WriteFile(base_ / "in" / name, content);
    PassStats stats;
    Status s = RunIngestPass(options_, Env::Default(), &clock_, &state_, &stats, nullptr);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return stats;
  }

  // Today's partition, by the fixture's clock.
  std::filesystem::path Partition() { return base_ / "wh" / PartitionDir(UtcTime(clock_.NowNs())); }

  TempRoot tmp_;
  std::filesystem::path base_;
  Options options_;
  MemStateStore state_;
  ManualClock clock_{Clock::Real()->NowNs() + 60 * kNanosPerSecond};
};

}  // namespace ingest
