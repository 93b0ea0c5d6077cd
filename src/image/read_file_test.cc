#include "image/read_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace argus::image {
namespace {

using ::testing::HasSubstr;

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("read_file_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& name, const std::string& content) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::filesystem::path dir_;
};

TEST_F(ReadFileTest, ReadsTheWholeFile) {
  std::string content(200'000, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) {
    content[i] = static_cast<char>(i * 31);
  }
  auto bytes = ReadFile(Write("data.bin", content), content.size());
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  ASSERT_EQ(bytes->size(), content.size());
  EXPECT_EQ(0, std::memcmp(bytes->data(), content.data(), content.size()));
}

TEST_F(ReadFileTest, ReadsAnEmptyFile) {
  auto bytes = ReadFile(Write("empty", ""), 10);
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  EXPECT_TRUE(bytes->empty());
}

TEST_F(ReadFileTest, RefusesAFileOverTheLimit) {
  auto path = Write("big", std::string(1001, 'x'));
  auto bytes = ReadFile(path, 1000);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::kTooLarge);
  EXPECT_THAT(bytes.error().message, HasSubstr(path.string()));
  EXPECT_TRUE(ReadFile(path, 1001).has_value());
}

TEST_F(ReadFileTest, EnforcesTheLimitOnStreamsWithoutASize) {
  // /dev/zero never ends and has no size: only the limit stops the read.
  auto bytes = ReadFile("/dev/zero", 100'000);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::kTooLarge);
}

TEST_F(ReadFileTest, ReportsAMissingFileAsNotFound) {
  auto path = dir_ / "no-such-file.jpg";
  auto bytes = ReadFile(path, 1000);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(bytes.error().message, HasSubstr(path.string()));
}

TEST_F(ReadFileTest, ReportsADirectoryAsAnIoError) {
  auto bytes = ReadFile(dir_, 1000);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace argus::image
