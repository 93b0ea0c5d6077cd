#include "cli/signals.h"

#include <gtest/gtest.h>

#include <chrono>
#include <stop_token>
#include <thread>

namespace argus::cli {
namespace {

using std::chrono::milliseconds;

// A worker whose batch hung after `argus serve` was killed kept its jobs from every other
// worker for good: nothing was left to kill it. It now leaves by itself.
TEST(ExitUnlessStoppedWithinDeathTest, AProcessStillRunningPastTheLimitExits) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::stop_source stop;
        auto overdue = ExitUnlessStoppedWithin(stop.get_token(), milliseconds(200), "worker");
        stop.request_stop();
        std::this_thread::sleep_for(std::chrono::seconds(60));
      },
      ::testing::ExitedWithCode(kStopOverdueExitCode), "still running 0 s after being asked");
}

TEST(ExitUnlessStoppedWithinTest, AProcessThatStopsInTimeOrIsNeverAskedGoesOn) {
  std::stop_source asked;
  {
    auto overdue = ExitUnlessStoppedWithin(asked.get_token(), milliseconds(300), "worker");
    asked.request_stop();
    std::this_thread::sleep_for(milliseconds(50));
  }
  std::stop_source never;
  {
    auto overdue = ExitUnlessStoppedWithin(never.get_token(), milliseconds(1), "worker");
    std::this_thread::sleep_for(milliseconds(300));
  }
  std::this_thread::sleep_for(milliseconds(400));
  SUCCEED() << "still here";
}

}  // namespace
}  // namespace argus::cli
