// forget: a content forgotten on purpose is ingested again on its next
// delivery; the act is recorded, and nothing in the warehouse or the
// manifests is touched.

#include "forget.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <string>

#include "clock.h"
#include "env.h"
#include "ingest_pass.h"
#include "mem_state_store.h"
#include "options.h"
#include "pass_fixture.h"
#include "records.h"
#include "sha256.h"
#include "test_support.h"
#include "warehouse.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class ForgetTest : public PassFixture {
 protected:
  ForgetTest() : PassFixture("forget_test") {}

  Status ForgetTarget(const std::string& target, const std::string& reason, ForgetResult* r) {
    Options o = options_;
    o.path = target;
    o.reason = reason;
    File state_dir;
    Status s = Env::Default()->OpenDir(o.state_path, &state_dir);
    if (!s.ok()) return s;
    return Forget(Env::Default(), &clock_, o, state_dir, &state_, r);
  }

  std::map<std::string, ForgetLogRecord> Log() {
    File manifests;
    EXPECT_TRUE(Env::Default()->OpenDir(options_.manifests, &manifests).ok());
    std::map<std::string, ForgetLogRecord> log;
    EXPECT_TRUE(ReadForgetLog(Env::Default(), manifests, &log).ok());
    return log;
  }
};

TEST_F(ForgetTest, AForgottenContentIsIngestedAgainAndTheActIsRecorded) {
  const std::string content = "a truncated upl";
  const std::string sha = Sha256::HexOf(content);
  EXPECT_EQ(Deliver("a.csv", content).files_ingested, 1u);
  EXPECT_EQ(Deliver("a2.csv", content).duplicates, 1u);

  ForgetResult r;
  ASSERT_TRUE(ForgetTarget((Partition() / "a.csv").string(), "truncated upload", &r).ok());
  EXPECT_EQ(r.sha256, sha);
  ASSERT_TRUE(r.content.has_value());
  EXPECT_EQ(r.content->path, (Partition() / "a.csv").string());
  ASSERT_TRUE(r.claim.has_value());
  std::string value;
  EXPECT_TRUE(state_.Get(keys::Content(sha), &value).IsNotFound());
  ASSERT_TRUE(state_.Get(keys::Forgotten(sha), &value).ok());
  ForgetRecord tomb;
  ASSERT_TRUE(DecodeForgetRecord(value, &tomb));
  EXPECT_EQ(tomb.reason, "truncated upload");
  EXPECT_EQ(tomb.path, (Partition() / "a.csv").string());
  std::map<std::string, ForgetLogRecord> log = Log();
  ASSERT_EQ(log.count(sha), 1u);
  EXPECT_EQ(log[sha].reason, "truncated upload");
  EXPECT_EQ(log[sha].source, (base_ / "in" / "a.csv").string());
  EXPECT_EQ(log[sha].instance, r.instance);
  // The warehouse file stays.
  EXPECT_EQ(ReadFile(Partition() / "a.csv"), content);

  // The next delivery is ingested again, under a free name.
  PassStats again = Deliver("a.csv", content);
  EXPECT_EQ(again.files_ingested, 1u);
  EXPECT_EQ(ReadFile(Partition() / CollisionName("a.csv", sha, 12)), content);
  // And is known again after that; the state check takes the manifests'
  // records of a forgotten content for no lost commit.
  EXPECT_EQ(Deliver("a3.csv", content).duplicates, 1u);
}

TEST_F(ForgetTest, ASha256ServesAsWellAsAPathInAnyCase) {
  const std::string content = "given by its hash\n";
  Deliver("b.csv", content);
  std::string upper = Sha256::HexOf(content);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ForgetResult r;
  ASSERT_TRUE(ForgetTarget(upper, "", &r).ok());
  EXPECT_EQ(r.sha256, Sha256::HexOf(content));
  EXPECT_EQ(Deliver("b.csv", content).files_ingested, 1u);
}

TEST_F(ForgetTest, AnUnknownContentOrAMissingFileIsAnErrorThatRecordsNothing) {
  Deliver("c.csv", "known\n");
  ForgetResult r;
  Status s = ForgetTarget(Sha256::HexOf("never seen\n"), "", &r);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.ToString().find("is not known"), std::string::npos) << s.ToString();
  s = ForgetTarget((base_ / "no-such-file").string(), "", &r);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_NE(s.ToString().find((base_ / "no-such-file").string()), std::string::npos);
  EXPECT_TRUE(Log().empty());
}

TEST(ForgetLogTest, LinesRoundTripAndTheLatestOfAContentWins) {
  ForgetLogRecord r;
  r.sha256 = std::string(64, 'a');
  r.path = "/wh/ingest_date=2026-12-03/x \"y\".csv";
  r.source = "/in/x \"y\".csv";
  r.forgotten_at = "2026-12-03T08:00:00.000000Z";
  r.forgotten_at_ns = 1796284800000000000;
  r.reason = "line\nbreak";
  r.instance = std::string(32, 'b');
  const std::string line = FormatForgetLine(r);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  ForgetLogRecord back;
  ASSERT_TRUE(ParseForgetLine(line, &back));
  EXPECT_EQ(back.path, r.path);
  EXPECT_EQ(back.reason, r.reason);
  EXPECT_EQ(back.forgotten_at_ns, r.forgotten_at_ns);
  EXPECT_FALSE(ParseForgetLine("{\"sha256\":\"x\"}", &back));
  EXPECT_FALSE(ParseForgetLine("not json", &back));

  TempRoot tmp("forget_log_test");
  ForgetLogRecord later = r;
  later.forgotten_at_ns += 1;
  later.reason = "again";
  WriteFile(tmp.path() / std::string(kForgottenLogName),
            FormatForgetLine(later) + "garbage\n" + FormatForgetLine(r) + "{\"torn");
  File dir;
  ASSERT_TRUE(Env::Default()->OpenDir(tmp.path().string(), &dir).ok());
  std::map<std::string, ForgetLogRecord> log;
  ASSERT_TRUE(ReadForgetLog(Env::Default(), dir, &log).ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.begin()->second.reason, "again");
}

}  // namespace
}  // namespace ingest
