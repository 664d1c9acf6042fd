#include "cli.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "flags.h"
#include "test_support.h"

namespace ingest {
namespace {

namespace fs = std::filesystem;

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Canonical, so expectations match what ParseCommandLine normalizes to.
    root_ = tmp_.path().string();
    for (const char* d : {"input", "warehouse", "manifests", "state"}) {
      fs::create_directory(root_ + "/" + d);
    }
  }

  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }

  // The four roots, then `extra`.
  std::vector<std::string> Args(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"--input",         Path("input"), "--warehouse",
                                     Path("warehouse"), "--manifests", Path("manifests"),
                                     "--state-path",    Path("state")};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // Expects parsing to fail with an error that mentions `flag`.
  void ExpectRejected(const std::vector<std::string>& args, const std::string& flag,
                      unsigned needs_roots = kNeedAllRoots) {
    CommandLine cl;
    std::string err;
    EXPECT_FALSE(ParseCommandLine(args, needs_roots, &cl, &err)) << flag;
    EXPECT_NE(err.find(flag), std::string::npos)
        << "error \"" << err << "\" does not name " << flag;
  }

  // Expects parsing to fail with exactly `message`.
  void ExpectError(const std::vector<std::string>& args, const std::string& message) {
    CommandLine cl;
    std::string err;
    EXPECT_FALSE(ParseCommandLine(args, kNeedAllRoots, &cl, &err)) << message;
    EXPECT_EQ(err, message);
  }

  TempRoot tmp_{"cli_test"};
  std::string root_;
};

// Whether `a` and `b` hold the same value in the member that `field` names.
bool SameMember(const FlagField& field, const Options& a, const Options& b) {
  return std::visit(
      [&](auto f) {
        if constexpr (std::is_same_v<decltype(f), std::monostate>) {
          return true;
        } else {
          return a.*f == b.*f;
        }
      },
      field);
}

TEST_F(CommandLineTest, DefaultsWhenOnlyRootsAreGiven) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args(), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_FALSE(cl.help);
  EXPECT_FALSE(cl.version);
  const Options& o = cl.options;
  EXPECT_EQ(o.input, Path("input"));
  EXPECT_EQ(o.warehouse, Path("warehouse"));
  EXPECT_EQ(o.manifests, Path("manifests"));
  EXPECT_EQ(o.state_path, Path("state"));
  EXPECT_EQ(o.mode, Mode::kStability);
  EXPECT_EQ(o.stability_seconds, 30);
  EXPECT_EQ(o.concurrency, 2);
  EXPECT_EQ(o.batch_size, 1000);
  EXPECT_EQ(o.on_duplicate, OnDuplicate::kQuarantine);
  EXPECT_FALSE(o.dry_run);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.log_format, "text");
}

TEST_F(CommandLineTest, EveryFlagIsParsed) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(
      ParseCommandLine(Args({"--mode", "sidecar", "--stability-seconds", "0", "--on-duplicate",
                             "keep", "--concurrency=256", "--batch-size", "100000", "--dry-run",
                             "--log-level", "trace", "--log-format", "json"}),
                       kNeedAllRoots, &cl, &err))
      << err;
  const Options& o = cl.options;
  EXPECT_EQ(o.mode, Mode::kSidecar);
  EXPECT_EQ(o.stability_seconds, 0);
  EXPECT_EQ(o.on_duplicate, OnDuplicate::kKeep);
  EXPECT_EQ(o.concurrency, 256);
  EXPECT_EQ(o.batch_size, 100000);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.log_level, "trace");
  EXPECT_EQ(o.log_format, "json");
}

TEST_F(CommandLineTest, ExecIsSplitIntoArgvOnce) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(
      Args({"--exec", "/usr/local/bin/hook --tag 'a b' \"$HOME\"", "--exec-timeout", "7"}),
      kNeedAllRoots, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.exec_argv,
            std::vector<std::string>({"/usr/local/bin/hook", "--tag", "a b", "$HOME"}));
  EXPECT_EQ(cl.options.exec_timeout_seconds, 7);
}

TEST_F(CommandLineTest, NoExecMeansNoHooks) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args(), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_TRUE(cl.options.exec_argv.empty());
  EXPECT_EQ(cl.options.exec_timeout_seconds, 300);
}

TEST_F(CommandLineTest, BadExecIsRejected) {
  ExpectRejected(Args({"--exec", "hook 'unbalanced"}), "--exec");
  ExpectRejected(Args({"--exec", "hook \"unbalanced"}), "--exec");
  ExpectRejected(Args({"--exec", "''"}), "--exec");
  ExpectRejected(Args({"--exec", "   "}), "--exec");
  ExpectRejected(Args({"--exec", "hook \\"}), "--exec");
}

TEST_F(CommandLineTest, EmptyExecMeansNoHooks) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({"--exec", ""}), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_TRUE(cl.options.exec_argv.empty());
}

TEST_F(CommandLineTest, ExecTimeoutOutOfRangeIsRejected) {
  ExpectRejected(Args({"--exec", "hook", "--exec-timeout", "0"}), "--exec-timeout");
  ExpectRejected(Args({"--exec", "hook", "--exec-timeout", "-5"}), "--exec-timeout");
  ExpectRejected(Args({"--exec", "hook", "--exec-timeout", "86401"}), "--exec-timeout");
  ExpectRejected(Args({"--exec", "hook", "--exec-timeout", "soon"}), "--exec-timeout");
}

TEST_F(CommandLineTest, ExecComesFromTheConfigFile) {
  const std::string conf = Path("hook.conf");
  std::ofstream(conf) << "exec = /usr/bin/hook --name \"x y\"\nexec-timeout = 12\n";
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({"--config", conf}), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_EQ(cl.options.exec_argv, std::vector<std::string>({"/usr/bin/hook", "--name", "x y"}));
  EXPECT_EQ(cl.options.exec_timeout_seconds, 12);
}

TEST_F(CommandLineTest, OnDuplicateDeleteIsParsed) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({"--on-duplicate", "delete"}), kNeedAllRoots, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.on_duplicate, OnDuplicate::kDelete);
}

TEST_F(CommandLineTest, SevenDaysIsTheLongestStabilityWindow) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({"--stability-seconds", "604800"}), kNeedAllRoots, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.stability_seconds, 604800);
}

TEST_F(CommandLineTest, PathsAreNormalized) {
  CommandLine cl;
  std::string err;
  const std::vector<std::string> args = {
      "--input",     Path("input") + "/",   "--warehouse",  Path("x/../warehouse"),
      "--manifests", Path("./manifests//"), "--state-path", Path("state/.")};
  ASSERT_TRUE(ParseCommandLine(args, kNeedAllRoots, &cl, &err)) << err;
  EXPECT_EQ(cl.options.input, Path("input"));
  EXPECT_EQ(cl.options.warehouse, Path("warehouse"));
  EXPECT_EQ(cl.options.manifests, Path("manifests"));
  EXPECT_EQ(cl.options.state_path, Path("state"));
}

TEST_F(CommandLineTest, EachRequiredRootIsRequired) {
  for (const std::string flag : {"--input", "--warehouse", "--manifests", "--state-path"}) {
    std::vector<std::string> args = Args();
    for (size_t i = 0; i < args.size(); i += 2) {
      if (args[i] == flag) {
        args.erase(args.begin() + i, args.begin() + i + 2);
        break;
      }
    }
    ASSERT_EQ(args.size(), 6u);
    ExpectRejected(args, flag);
  }
}

TEST_F(CommandLineTest, EmptyRootIsRejected) {
  ExpectRejected({"--input", "", "--warehouse", Path("warehouse"), "--manifests", Path("manifests"),
                  "--state-path", Path("state")},
                 "--input");
}

TEST_F(CommandLineTest, SubcommandWithoutRootsNeedsOnlyStateAndManifests) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine({"--manifests", Path("manifests"), "--state-path", Path("state")},
                               kNeedManifests | kNeedState, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.input, "");
  ExpectRejected({"--manifests", Path("manifests")}, "--state-path", kNeedManifests | kNeedState);
  ExpectRejected({"--state-path", Path("state")}, "--manifests", kNeedManifests | kNeedState);
}

TEST_F(CommandLineTest, InputThatDoesNotExistIsRejected) {
  std::vector<std::string> args = Args();
  args[1] = Path("missing");
  ExpectRejected(args, "--input");
}

TEST_F(CommandLineTest, InputThatIsAFileIsRejected) {
  std::ofstream(Path("file")) << "x";
  std::vector<std::string> args = Args();
  args[1] = Path("file");
  CommandLine cl;
  std::string err;
  EXPECT_FALSE(ParseCommandLine(args, kNeedAllRoots, &cl, &err));
  EXPECT_NE(err.find("--input"), std::string::npos) << err;
  EXPECT_NE(err.find("not a directory"), std::string::npos) << err;
}

TEST_F(CommandLineTest, WarehouseThatIsAFileIsRejected) {
  std::ofstream(Path("file")) << "x";
  std::vector<std::string> args = Args();
  args[3] = Path("file");
  ExpectRejected(args, "--warehouse");
}

TEST_F(CommandLineTest, MissingOutputRootsAreAllowed) {
  // The warehouse, manifests and state directories are created on first use.
  std::vector<std::string> args = Args();
  args[3] = Path("new-warehouse");
  args[5] = Path("new-manifests");
  args[7] = Path("new-state");
  CommandLine cl;
  std::string err;
  EXPECT_TRUE(ParseCommandLine(args, kNeedAllRoots, &cl, &err)) << err;
  EXPECT_EQ(cl.options.warehouse, Path("new-warehouse"));
}

TEST_F(CommandLineTest, SameDirectoryForTwoRolesIsRejected) {
  std::vector<std::string> args = Args();
  args[3] = Path("input");  // --warehouse
  ExpectRejected(args, "--warehouse");
  ExpectRejected(args, "--input");

  args = Args();
  args[7] = Path("manifests/");  // --state-path, spelled differently
  ExpectRejected(args, "--state-path");
  ExpectRejected(args, "--manifests");
}

TEST_F(CommandLineTest, SameDirectoryThroughASymlinkIsRejected) {
  fs::create_directory_symlink(Path("input"), Path("link"));
  std::vector<std::string> args = Args();
  args[3] = Path("link");
  ExpectRejected(args, "--warehouse");
}

TEST_F(CommandLineTest, WarehouseInsideInputIsRejected) {
  std::vector<std::string> args = Args();
  args[3] = Path("input/warehouse");
  ExpectRejected(args, "--warehouse");
  ExpectRejected(args, "--input");
}

TEST_F(CommandLineTest, InputInsideWarehouseIsRejected) {
  fs::create_directory(Path("warehouse/staging"));
  std::vector<std::string> args = Args();
  args[1] = Path("warehouse/staging");
  ExpectRejected(args, "--input");
  ExpectRejected(args, "--warehouse");
}

TEST_F(CommandLineTest, StateInsideInputIsRejected) {
  std::vector<std::string> args = Args();
  args[7] = Path("input/.state");
  ExpectRejected(args, "--state-path");
}

TEST_F(CommandLineTest, ManifestsInsideWarehouseIsRejected) {
  std::vector<std::string> args = Args();
  args[5] = Path("warehouse/_manifests");
  ExpectRejected(args, "--manifests");
}

TEST_F(CommandLineTest, SiblingWithACommonPrefixIsNotInside) {
  fs::create_directory(Path("input2"));
  std::vector<std::string> args = Args();
  args[3] = Path("input2");  // "/.../input2" starts with "/.../input"
  CommandLine cl;
  std::string err;
  EXPECT_TRUE(ParseCommandLine(args, kNeedAllRoots, &cl, &err)) << err;
}

TEST_F(CommandLineTest, ConcurrencyOutOfRangeIsRejected) {
  for (const char* v : {"0", "257", "-1"}) {
    ExpectRejected(Args({std::string("--concurrency=") + v}), "--concurrency");
  }
  ExpectRejected(Args({"--concurrency", "0"}), "--concurrency");
}

TEST_F(CommandLineTest, NonNumericValuesAreRejected) {
  ExpectRejected(Args({"--concurrency", "two"}), "--concurrency");
  ExpectRejected(Args({"--concurrency", "99999999999"}), "--concurrency");
  ExpectRejected(Args({"--stability-seconds", "30s"}), "--stability-seconds");
  ExpectRejected(Args({"--batch-size", ""}), "--batch-size");
}

TEST_F(CommandLineTest, NegativeStabilitySecondsIsRejected) {
  ExpectRejected(Args({"--stability-seconds=-1"}), "--stability-seconds");
  // Separated from its flag, "-1" looks like an option; either way it fails
  // and names the flag.
  ExpectRejected(Args({"--stability-seconds", "-1"}), "--stability-seconds");
}

TEST_F(CommandLineTest, AbsurdStabilitySecondsIsRejected) {
  ExpectRejected(Args({"--stability-seconds", "604801"}), "--stability-seconds");
  ExpectRejected(Args({"--stability-seconds", "9223372036854775807"}), "--stability-seconds");
}

TEST_F(CommandLineTest, BatchSizeOutOfRangeIsRejected) {
  ExpectRejected(Args({"--batch-size", "0"}), "--batch-size");
  ExpectRejected(Args({"--batch-size", "100001"}), "--batch-size");
}

TEST_F(CommandLineTest, BadEnumValuesAreRejected) {
  ExpectRejected(Args({"--mode", "fast"}), "--mode");
  ExpectRejected(Args({"--mode", "Stability"}), "--mode");
  ExpectRejected(Args({"--on-duplicate", "ignore"}), "--on-duplicate");
  ExpectRejected(Args({"--log-level", "verbose"}), "--log-level");
  ExpectRejected(Args({"--log-level", "warning"}), "--log-level");
  ExpectRejected(Args({"--log-format", "xml"}), "--log-format");
}

TEST_F(CommandLineTest, UnknownFlagIsRejected) { ExpectRejected(Args({"--colour"}), "--colour"); }

TEST_F(CommandLineTest, FlagWithoutItsValueIsRejected) {
  ExpectRejected(Args({"--mode"}), "--mode");
}

TEST_F(CommandLineTest, HelpNeedsNoOtherFlags) {
  for (const char* flag : {"--help", "-h"}) {
    CommandLine cl;
    std::string err;
    ASSERT_TRUE(ParseCommandLine({flag}, kNeedAllRoots, &cl, &err)) << err;
    EXPECT_TRUE(cl.help);
  }
}

TEST_F(CommandLineTest, VersionNeedsNoOtherFlags) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine({"--version"}, kNeedAllRoots, &cl, &err)) << err;
  EXPECT_TRUE(cl.version);
  EXPECT_FALSE(cl.help);
}

TEST_F(CommandLineTest, IntervalIsParsedAndBounded) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args(), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_EQ(cl.options.interval_seconds, 300);
  ASSERT_TRUE(ParseCommandLine(Args({"--interval", "1"}), kNeedAllRoots, &cl, &err)) << err;
  EXPECT_EQ(cl.options.interval_seconds, 1);
  ExpectRejected(Args({"--interval", "0"}), "--interval");
  ExpectRejected(Args({"--interval", "-5"}), "--interval");
  ExpectRejected(Args({"--interval", "604801"}), "--interval");
  ExpectRejected(Args({"--interval", "soon"}), "--interval");
}

TEST_F(CommandLineTest, LogFileIsMadeAbsoluteInItsNormalizedDirectory) {
  fs::create_directory(Path("logs"));
  fs::create_directory_symlink(Path("logs"), Path("logs-link"));
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({"--log-file", Path("logs-link/../logs-link/ingest.log")}),
                               kNeedAllRoots, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.log_file, Path("logs/ingest.log"));
  // The state directory may hold it.
  ASSERT_TRUE(
      ParseCommandLine(Args({"--log-file", Path("state/ingest.log")}), kNeedAllRoots, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.log_file, Path("state/ingest.log"));
}

TEST_F(CommandLineTest, BadLogFilesAreRejected) {
  ExpectRejected(Args({"--log-file", Path("no-such-dir/ingest.log")}), "--log-file");
  ExpectRejected(Args({"--log-file", Path("state")}), "--log-file");
  ExpectRejected(Args({"--log-file", Path("state") + "/"}), "--log-file");
  fs::create_symlink(Path("elsewhere.log"), Path("link.log"));
  ExpectRejected(Args({"--log-file", Path("link.log")}), "--log-file");
  // Inside the input it would be ingested; in the outputs it would be in
  // the way.
  ExpectRejected(Args({"--log-file", Path("input/ingest.log")}), "--log-file");
  ExpectRejected(Args({"--log-file", Path("warehouse/ingest.log")}), "--log-file");
  ExpectRejected(Args({"--log-file", Path("manifests/ingest.log")}), "--log-file");
}

TEST_F(CommandLineTest, StatusFlagsDefaultAndParse) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args(), kNeedInput | kNeedState, &cl, &err)) << err;
  EXPECT_FALSE(cl.options.json);
  EXPECT_EQ(cl.options.limit, 20);
  ASSERT_TRUE(
      ParseCommandLine(Args({"--json", "--limit", "0"}), kNeedInput | kNeedState, &cl, &err))
      << err;
  EXPECT_TRUE(cl.options.json);
  EXPECT_EQ(cl.options.limit, 0);
}

TEST_F(CommandLineTest, NegativeLimitIsRejected) {
  ExpectRejected(Args({"--limit", "-1"}), "--limit");
}

TEST_F(CommandLineTest, StatusNeedsOnlyInputAndState) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine({"--input", Path("input"), "--state-path", Path("state")},
                               kNeedInput | kNeedState, &cl, &err))
      << err;
  ExpectRejected({"--input", Path("input")}, "--state-path", kNeedInput | kNeedState);
}

TEST_F(CommandLineTest, ExplainTakesOnePath) {
  const unsigned needs = kNeedInput | kNeedManifests | kNeedState | kNeedPath;
  CommandLine cl;
  std::string err;
  std::vector<std::string> args = Args({Path("input/./a.csv")});
  ASSERT_TRUE(ParseCommandLine(args, needs, &cl, &err)) << err;
  EXPECT_EQ(cl.options.path, Path("input/a.csv"));
  // The operand may come first, before the flags.
  args = Args();
  args.insert(args.begin(), Path("input/b.csv"));
  ASSERT_TRUE(ParseCommandLine(args, needs, &cl, &err)) << err;
  EXPECT_EQ(cl.options.path, Path("input/b.csv"));
  ExpectRejected(Args(), "PATH", needs);
  ExpectRejected(Args({Path("a"), Path("b")}), "PATH", needs);
}

TEST_F(CommandLineTest, ExplainPathResolvesItsDirectoryButNotItsName) {
  fs::create_directory_symlink(Path("input"), Path("staging-link"));
  fs::create_symlink("a.csv", Path("input/link.csv"));
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args({Path("staging-link/link.csv")}),
                               kNeedInput | kNeedManifests | kNeedState | kNeedPath, &cl, &err))
      << err;
  EXPECT_EQ(cl.options.path, Path("input/link.csv"));
}

TEST_F(CommandLineTest, OperandIsRejectedByOtherCommands) {
  ExpectRejected(Args({"stray"}), "stray");
}

TEST_F(CommandLineTest, RangeViolationsGetOneMessage) {
  ExpectError(Args({"--concurrency", "0"}), "--concurrency must be between 1 and 256, not 0");
  ExpectError(Args({"--exec-timeout", "86401"}),
              "--exec-timeout must be between 1 and 86400, not 86401");
  ExpectError(Args({"--max-files=-1"}), "--max-files must be 0 or more, not -1");
  ExpectError(Args({"--limit=-3"}), "--limit must be 0 or more, not -3");
}

TEST_F(CommandLineTest, BadChoicesGetOneMessage) {
  ExpectError(Args({"--mode", "fast"}), "--mode must be stability or sidecar, not 'fast'");
  ExpectError(Args({"--on-duplicate", "ignore"}),
              "--on-duplicate must be quarantine, delete or keep, not 'ignore'");
  ExpectError(Args({"--log-level", "verbose"}),
              "--log-level must be trace, debug, info, warn or error, not 'verbose'");
  ExpectError(Args({"--log-format", "xml"}), "--log-format must be text or json, not 'xml'");
}

TEST_F(CommandLineTest, TheFirstMistakeInTableOrderIsReported) {
  ExpectError(Args({"--interval", "0", "--exec", "'a"}),
              "--exec ''a': unbalanced single quote at offset 0");
  ExpectError(Args({"--log-format", "xml", "--limit", "-1"}), "--limit must be 0 or more, not -1");
}

TEST_F(CommandLineTest, EveryTableDefaultIsTheOptionsDefault) {
  CommandLine cl;
  std::string err;
  ASSERT_TRUE(ParseCommandLine(Args(), kNeedAllRoots, &cl, &err)) << err;
  const Options defaults;
  for (const Flag& f : FlagTable()) {
    if (f.check == FlagCheck::kRoot) continue;  // given by Args()
    EXPECT_TRUE(SameMember(f.field, cl.options, defaults)) << "--" << f.name;
  }
  EXPECT_EQ(FlagDefault(*FindFlag("mode")), "stability");
  EXPECT_EQ(FlagDefault(*FindFlag("on-duplicate")), "quarantine");
  EXPECT_EQ(FlagDefault(*FindFlag("concurrency")), std::to_string(defaults.concurrency));
  EXPECT_EQ(FlagDefault(*FindFlag("log-level")), defaults.log_level);
  EXPECT_EQ(FlagDefault(*FindFlag("input")), "");
}

TEST_F(CommandLineTest, EveryRangeIsEnforcedAtItsBounds) {
  for (const Flag& f : FlagTable()) {
    const bool integer = std::holds_alternative<int Options::*>(f.field) ||
                         std::holds_alternative<int64_t Options::*>(f.field);
    if (!integer) continue;
    const std::string flag = std::string("--") + f.name;
    const std::string range =
        f.max == kNoMax ? std::to_string(f.min) + " or more"
                        : "between " + std::to_string(f.min) + " and " + std::to_string(f.max);
    CommandLine cl;
    std::string err;
    EXPECT_TRUE(
        ParseCommandLine(Args({flag + "=" + std::to_string(f.min)}), kNeedAllRoots, &cl, &err))
        << err;
    ExpectError(Args({flag + "=" + std::to_string(f.min - 1)}),
                flag + " must be " + range + ", not " + std::to_string(f.min - 1));
    if (f.max == kNoMax) continue;
    EXPECT_TRUE(
        ParseCommandLine(Args({flag + "=" + std::to_string(f.max)}), kNeedAllRoots, &cl, &err))
        << err;
    ExpectError(Args({flag + "=" + std::to_string(f.max + 1)}),
                flag + " must be " + range + ", not " + std::to_string(f.max + 1));
  }
}

TEST_F(CommandLineTest, EveryChoiceIsAccepted) {
  for (const Flag& f : FlagTable()) {
    for (size_t i = 0; i < f.choices.size(); ++i) {
      CommandLine cl;
      std::string err;
      ASSERT_TRUE(ParseCommandLine(Args({std::string("--") + f.name, f.choices[i]}), kNeedAllRoots,
                                   &cl, &err))
          << err;
      // An enum takes the choice's index; a string, the choice itself.
      std::visit(
          [&](auto field) {
            using T = decltype(field);
            if constexpr (std::is_same_v<T, std::string Options::*>) {
              EXPECT_EQ(cl.options.*field, f.choices[i]);
            } else if constexpr (std::is_same_v<T, Mode Options::*> ||
                                 std::is_same_v<T, OnDuplicate Options::*>) {
              EXPECT_EQ(static_cast<size_t>(cl.options.*field), i) << f.name;
            } else {
              ADD_FAILURE() << "--" << f.name << " has choices but sets no string or enum";
            }
          },
          f.field);
    }
  }
}

TEST_F(CommandLineTest, OnlyConfigKeysComeFromTheConfigFile) {
  for (const Flag& f : FlagTable()) {
    if (f.config_key || f.group == FlagGroup::kHidden) continue;
    const std::string conf = Path("command-line-only.conf");
    std::ofstream(conf) << f.name << " = 1\n";
    ExpectError(Args({"--config", conf}),
                "--config " + conf + ": unrecognised option '" + f.name + "'");
  }
}

TEST(FlagsHelpTest, ListsEveryFlagOfTheTable) {
  const std::string help = FlagsHelp();
  for (const Flag& f : FlagTable()) {
    if (f.group == FlagGroup::kHidden) {
      EXPECT_EQ(help.find(std::string("--") + f.name + " "), std::string::npos) << f.name;
      continue;
    }
    std::string option = std::string("--") + f.name;
    if (f.value_name != nullptr) option += std::string(" ") + f.value_name;
    if (!FlagDefault(f).empty()) option += " (=" + FlagDefault(f) + ")";
    EXPECT_NE(help.find(option), std::string::npos) << option;
  }
}

TEST(FlagsHelpTest, HelpShowsTheChoicesAndTheRange) {
  EXPECT_EQ(FlagHelp(*FindFlag("mode")), "stability|sidecar: how a file is judged complete");
  EXPECT_EQ(FlagHelp(*FindFlag("log-level")), "trace|debug|info|warn|error");
  EXPECT_EQ(FlagHelp(*FindFlag("concurrency")), "files hashed and moved in parallel; 1 to 256");
  EXPECT_EQ(FlagHelp(*FindFlag("limit")),
            "status: files listed per group; explain: records listed (0: all)");
}

TEST(FlagsHelpTest, ListsEveryFlag) {
  const std::string help = FlagsHelp();
  for (const char* flag : {"--input",        "--warehouse",   "--manifests",
                           "--state-path",   "--mode",        "--stability-seconds",
                           "--on-duplicate", "--concurrency", "--batch-size",
                           "--dry-run",      "--exec",        "--exec-timeout",
                           "--log-level",    "--log-format",  "--log-file",
                           "--interval",     "--json",        "--limit",
                           "--help",         "--version"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace ingest
