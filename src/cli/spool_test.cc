#include "cli/spool.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir_test.h"

namespace argus::cli {
namespace {

class SpoolTest : public TempDirTest {};

TEST_F(SpoolTest, RemovesOnlyFilesOlderThanTheAge) {
  namespace fs = std::filesystem;
  const fs::path spool = dir_ / "tmp";
  fs::create_directories(spool / "tmp" / "a" / "b");
  const fs::path old_file = spool / "tmp" / "a" / "b" / "ab123";
  const fs::path young_file = spool / "tmp" / "a" / "b" / "ab456";
  std::ofstream(old_file) << "a body from a process killed mid-upload";
  std::ofstream(young_file) << "a body being received";
  fs::last_write_time(old_file, fs::file_time_type::clock::now() - std::chrono::hours(2));

  EXPECT_EQ(RemoveStaleSpoolFiles(spool, std::chrono::minutes(60)), 1U);
  EXPECT_FALSE(fs::exists(old_file));
  EXPECT_TRUE(fs::exists(young_file));
  EXPECT_EQ(RemoveStaleSpoolFiles(dir_ / "missing", std::chrono::minutes(60)), 0U);
}

}  // namespace
}  // namespace argus::cli
