#include "blob/write_probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "blob/local_blob_store.h"
#include "common/small_file_system_test.h"
#include "common/temp_dir_test.h"

namespace argus::blob {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class WriteProbeTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto store = OpenLocalBlobStore(dir_ / "store");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  std::unique_ptr<BlobStore> store_;
};

TEST_F(WriteProbeTest, AStoreThatTakesWritesPassesAndKeepsNoProbeObject) {
  WriteProbe probe(*store_, 0s);
  auto checked = probe.Check();
  ASSERT_TRUE(checked) << checked.error().message;
  EXPECT_FALSE(store_->Exists(WriteProbe::kKey).value());
}

TEST_F(WriteProbeTest, AnInputsFolderThatRefusesWritesFailsTheCheck) {
  SmallFileSystem read_only(dir_ / "store" / "inputs", "64k", MS_RDONLY);
  if (!read_only.mounted()) GTEST_SKIP() << "cannot mount a file system: " << read_only.error();
  WriteProbe probe(*store_, 0s);
  auto checked = probe.Check();
  ASSERT_FALSE(checked);
  EXPECT_THAT(checked.error().message, HasSubstr("inputs"));
  EXPECT_THAT(checked.error().message, HasSubstr("Read-only file system"));
}

TEST_F(WriteProbeTest, ADiskWithLessRoomThanOneUploadFailsTheCheck) {
  SmallFileSystem small(dir_ / "store" / "inputs", "256k");
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a file system: " << small.error();
  WriteProbe roomy_enough(*store_, 0s, std::uint64_t{64} * 1024);
  auto checked = roomy_enough.Check();
  ASSERT_TRUE(checked) << checked.error().message;
  WriteProbe needing_a_megabyte(*store_, 0s, std::uint64_t{1024} * 1024);
  checked = needing_a_megabyte.Check();
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::kNoSpace);
  EXPECT_THAT(checked.error().message,
              HasSubstr("MB free, less than the 1.0 MB one upload may take"));
  EXPECT_FALSE(store_->Exists(WriteProbe::kKey).value());
}

TEST_F(WriteProbeTest, AnOutcomeIsReusedForItsPeriodThenCheckedAgain) {
  SmallFileSystem read_only(dir_ / "store" / "inputs", "64k", MS_RDONLY);
  if (!read_only.mounted()) GTEST_SKIP() << "cannot mount a file system: " << read_only.error();
  WriteProbe reusing(*store_, 1h);
  WriteProbe fresh(*store_, 0s);
  ASSERT_FALSE(reusing.Check());
  ASSERT_FALSE(fresh.Check());
  ASSERT_TRUE(read_only.Unmount());
  EXPECT_FALSE(reusing.Check()) << "the failure is reused for an hour";
  auto checked = fresh.Check();
  EXPECT_TRUE(checked) << checked.error().message;
}

}  // namespace
}  // namespace argus::blob
