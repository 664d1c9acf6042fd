#include "open_writers.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>

#include "env_wrapper.h"
#include "test_support.h"

namespace ingest {
namespace {

// The real filesystem, except that leases can be refused with `lease_err`;
// counts the lease checks.
class LeaseEnv final : public EnvWrapper {
 public:
  LeaseEnv() : EnvWrapper(Env::Default()) {}

  int lease_err = 0;
  int checks = 0;

  Status HeldForWriting(const File& file, bool* held) override {
    ++checks;
    if (lease_err != 0)
      return Status::FromErrno("cannot take a read lease on " + file.path(), lease_err);
    return EnvWrapper::HeldForWriting(file, held);
  }
};

class OpenWritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(tmp_.path() / "a.csv", "half a line");
    ASSERT_TRUE(env_.OpenDir(tmp_.path().string(), &dir_).ok());
  }

  // "a.csv" opened as a pass opens it: read-only.
  File OpenForReading() {
    File f;
    EXPECT_TRUE(env_.OpenAt(dir_, "a.csv", O_RDONLY, 0, &f).ok());
    return f;
  }

  TempRoot tmp_{"open_writers_test"};
  LeaseEnv env_;
  File dir_;
};

TEST_F(OpenWritersTest, AFileOpenForWritingIsHeld) {
  OpenWriters writers(&env_, tmp_.path().string(), /*network_fs=*/false);
  File reader = OpenForReading();
  {
    File writer;
    ASSERT_TRUE(env_.OpenAt(dir_, "a.csv", O_WRONLY | O_APPEND, 0, &writer).ok());
    EXPECT_TRUE(writers.Held(reader));
  }
  // Closed by its writer: no longer held, and the lease is gone again, so
  // a new writer opens at once.
  EXPECT_FALSE(writers.Held(reader));
  File writer;
  ASSERT_TRUE(env_.OpenAt(dir_, "a.csv", O_WRONLY | O_NONBLOCK, 0, &writer).ok());
}

TEST_F(OpenWritersTest, AnotherReaderDoesNotHoldIt) {
  OpenWriters writers(&env_, tmp_.path().string(), /*network_fs=*/false);
  File other = OpenForReading();
  EXPECT_FALSE(writers.Held(OpenForReading()));
}

TEST_F(OpenWritersTest, OnANetworkFilesystemNothingIsAsked) {
  OpenWriters writers(&env_, tmp_.path().string(), /*network_fs=*/true);
  File writer;
  ASSERT_TRUE(env_.OpenAt(dir_, "a.csv", O_WRONLY, 0, &writer).ok());
  EXPECT_FALSE(writers.Held(OpenForReading()));
  EXPECT_EQ(env_.checks, 0);
}

TEST_F(OpenWritersTest, WithoutCapLeaseEachFileIsStillAsked) {
  // Another owner's file refuses the lease; this user's next file may not.
  OpenWriters writers(&env_, tmp_.path().string(), /*network_fs=*/false);
  env_.lease_err = EACCES;
  File reader = OpenForReading();
  EXPECT_FALSE(writers.Held(reader));
  env_.lease_err = 0;
  File writer;
  ASSERT_TRUE(env_.OpenAt(dir_, "a.csv", O_WRONLY, 0, &writer).ok());
  EXPECT_TRUE(writers.Held(reader));
  EXPECT_EQ(env_.checks, 2);
}

TEST_F(OpenWritersTest, AFilesystemWithoutLeasesIsAskedOnce) {
  OpenWriters writers(&env_, tmp_.path().string(), /*network_fs=*/false);
  env_.lease_err = EINVAL;
  File reader = OpenForReading();
  EXPECT_FALSE(writers.Held(reader));
  EXPECT_FALSE(writers.Held(reader));
  EXPECT_EQ(env_.checks, 1);
}

}  // namespace
}  // namespace ingest
