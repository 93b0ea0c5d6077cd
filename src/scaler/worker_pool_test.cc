#include "scaler/worker_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/temp_dir_test.h"

namespace argus::scaler {
namespace {

class WorkerPoolTest : public TempDirTest {
 protected:
  // Waits up to 10 s for `path` to be written and returns its text ("" if it never is).
  static std::string ReadWhenWritten(const std::filesystem::path& path) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(path)) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        if (!text.str().empty()) return text.str();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "";
  }
};

TEST_F(WorkerPoolTest, StartsWorkersWithTheGivenEnvironmentOnly) {
  const std::filesystem::path out = dir_ / "environment";
  // The shell writes the file under a temporary name first, so a reader never sees half.
  WorkerPool pool(
      {"/bin/sh", "-c",
       "printf '%s|%s' \"$GLIBC_TUNABLES\" \"${ARGUS_UNSET_IN_WORKERS:-unset}\" > " + out.string() +
           ".tmp && mv " + out.string() + ".tmp " + out.string() + " && exec sleep 60"},
      {"GLIBC_TUNABLES=glibc.malloc.hugetlb=1", "PATH=/usr/bin:/bin"});
  ::setenv("ARGUS_UNSET_IN_WORKERS", "inherited", 1);
  ASSERT_TRUE(pool.Resize(1));
  ::unsetenv("ARGUS_UNSET_IN_WORKERS");
  EXPECT_EQ(ReadWhenWritten(out), "glibc.malloc.hugetlb=1|unset");
  pool.StopAll(std::chrono::seconds(5));
  EXPECT_EQ(pool.running(), 0);
}

}  // namespace
}  // namespace argus::scaler
