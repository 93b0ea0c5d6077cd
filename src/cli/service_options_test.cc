#include "cli/service_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>

namespace argus::cli {
namespace {

using ::testing::Contains;

TEST(WorkerCommandTest, SharesTheCoresAmongTheMostWorkersUnlessThreadsAreSet) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const StorageOptions storage;
  WorkerSettings settings;

  auto alone = WorkerCommand(storage, settings, "", 1);
  EXPECT_THAT(alone, Contains("--engine-threads=" + std::to_string(cores)));
  EXPECT_THAT(alone, Contains("--decode-threads=" + std::to_string(cores)));
  EXPECT_THAT(alone, Contains("--engine-spin=true")) << "a lone worker may spin";

  auto crowded = WorkerCommand(storage, settings, "", 4 * cores);
  EXPECT_THAT(crowded, Contains("--engine-threads=1")) << "never fewer than one";
  EXPECT_THAT(crowded, Contains("--decode-threads=1"));
  EXPECT_THAT(crowded, Contains("--engine-spin=false"));

  settings.engine_threads = 3;
  settings.worker.decode_threads = 5;
  auto configured = WorkerCommand(storage, settings, "", 4 * cores);
  EXPECT_THAT(configured, Contains("--engine-threads=3"));
  EXPECT_THAT(configured, Contains("--decode-threads=5"));
}

TEST(WorkerEnvironmentTest, AsksForHugePagesAndKeepsEverythingElse) {
  const char* plain[] = {"PATH=/usr/bin", "HOME=/root", nullptr};
  EXPECT_THAT(WorkerEnvironment(plain),
              ::testing::ElementsAre("PATH=/usr/bin", "HOME=/root",
                                     "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"));

  const char* tuned[] = {"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "HOME=/root", nullptr};
  EXPECT_THAT(WorkerEnvironment(tuned),
              ::testing::ElementsAre(
                  "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", "HOME=/root"));

  const char* declined[] = {"GLIBC_TUNABLES=glibc.malloc.hugetlb=0", nullptr};
  EXPECT_THAT(WorkerEnvironment(declined),
              ::testing::ElementsAre("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"))
      << "an operator's own setting wins";

  const char* empty[] = {"GLIBC_TUNABLES=", nullptr};
  EXPECT_THAT(WorkerEnvironment(empty),
              ::testing::ElementsAre("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"));
}

}  // namespace
}  // namespace argus::cli
