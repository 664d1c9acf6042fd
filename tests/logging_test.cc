#include "logging.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace ingest {
namespace {

namespace json = boost::json;

// Logging set up in `format` with a log file, whose lines the test reads.
class LoggingTest : public ::testing::Test {
 protected:
  void SetUpFormat(const std::string& format, const std::string& level = "info") {
    ++generation_;
    path_ = tmp_.path() / ("log." + std::to_string(generation_));
    Status s = SetUpLogging(level, format, path_.string());
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<std::string> Lines() {
    std::vector<std::string> lines;
    std::istringstream in(ReadFile(path_));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // The text after the timestamp of a text line.
  static std::string AfterTime(const std::string& line) { return line.substr(line.find(' ') + 1); }

  TempRoot tmp_{"logging_test"};
  std::filesystem::path path_;
  int generation_ = 0;
};

TEST_F(LoggingTest, TextFormatPrintsTheMessageAsSpdlogWould) {
  SetUpFormat("text");
  spdlog::info("ingested {} -> {} ({} bytes, sha256 {})", "/in/a", "/wh/a", 3, "ab");
  LogEvent(spdlog::level::info, "ingested")
      .Str("path", "/wh/a")
      .Str("source", "/in/a")
      .Str("sha256", "ab")
      .Num("bytes", 3)
      .Log("ingested {} -> {} ({} bytes, sha256 {})", "/in/a", "/wh/a", 3, "ab");
  LogEvent(spdlog::level::info, "summary").Members(R"({"files_ingested":1})").Log("summary {}", 1);
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(AfterTime(lines[0]), "info ingested /in/a -> /wh/a (3 bytes, sha256 ab)");
  EXPECT_EQ(AfterTime(lines[1]), AfterTime(lines[0]));
  EXPECT_EQ(AfterTime(lines[2]), "info summary 1");
}

TEST_F(LoggingTest, JsonFormatCarriesTheFieldsBesideTheMessage) {
  SetUpFormat("json");
  LogEvent(spdlog::level::info, "ingested")
      .Str("path", "/wh/a")
      .Str("source", "/in/a")
      .Str("sha256", "ab")
      .Num("bytes", 3)
      .Log("ingested {} -> {}", "/in/a", "/wh/a");
  const std::string summary =
      R"({"files_ingested":2,"files_per_sec":1.25E2,"duration":3.2E-1,"failed":0})";
  LogEvent(spdlog::level::info, "summary").Members(summary).Log("summary {}", summary);
  // A plain record logged meanwhile gets no fields.
  spdlog::warn("plain");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 3u);

  json::object ingested = json::parse(lines[0]).as_object();
  EXPECT_EQ(ingested.at("level").as_string(), "info");
  EXPECT_EQ(ingested.at("msg").as_string(), "ingested /in/a -> /wh/a");
  EXPECT_EQ(ingested.at("event").as_string(), "ingested");
  EXPECT_EQ(ingested.at("path").as_string(), "/wh/a");
  EXPECT_EQ(ingested.at("source").as_string(), "/in/a");
  EXPECT_EQ(ingested.at("sha256").as_string(), "ab");
  EXPECT_EQ(ingested.at("bytes").to_number<uint64_t>(), 3u);
  EXPECT_FALSE(ingested.contains("escaped"));

  json::object s = json::parse(lines[1]).as_object();
  EXPECT_EQ(s.at("event").as_string(), "summary");
  EXPECT_EQ(s.at("msg").as_string(), "summary " + summary);
  EXPECT_EQ(s.at("files_ingested").to_number<uint64_t>(), 2u);
  EXPECT_DOUBLE_EQ(s.at("files_per_sec").to_number<double>(), 125.0);
  EXPECT_DOUBLE_EQ(s.at("duration").to_number<double>(), 0.32);
  EXPECT_EQ(s.at("failed").to_number<uint64_t>(), 0u);

  json::object plain = json::parse(lines[2]).as_object();
  EXPECT_EQ(plain.size(), 3u) << lines[2];
  EXPECT_EQ(plain.at("msg").as_string(), "plain");
}

TEST_F(LoggingTest, JsonFieldsThatAreNotUtf8AreEscapedAllAlike) {
  SetUpFormat("json");
  LogEvent(spdlog::level::err, "failed")
      .Str("source", "/in/n\xfe")
      .Str("error", "a\\b")
      .Log("{}", "cannot read /in/n\xfe");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  json::object o = json::parse(lines[0]).as_object();
  EXPECT_EQ(o.at("level").as_string(), "error");
  EXPECT_EQ(o.at("source").as_string(), "/in/n\\xfe");
  EXPECT_EQ(o.at("error").as_string(), "a\\\\b");
  EXPECT_TRUE(o.at("escaped").as_bool());
}

TEST_F(LoggingTest, ARecordBelowTheLevelIsNotLogged) {
  SetUpFormat("json", "warn");
  LogEvent(spdlog::level::info, "ingested").Str("path", "/wh/a").Log("ingested {}", "/wh/a");
  LogEvent(spdlog::level::err, "failed").Str("path", "/in/b").Log("cannot read {}", "/in/b");
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(json::parse(lines[0]).as_object().at("event").as_string(), "failed");
}

}  // namespace
}  // namespace ingest
