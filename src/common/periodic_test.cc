#include "common/periodic.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stop_token>
#include <thread>

namespace argus {
namespace {

using namespace std::chrono_literals;

// A long task, such as a sweep of thousands of photos, is asked to stop by the destruction
// rather than waited for to its end.
TEST(PeriodicTest, DestructionAsksARunningTaskToStop) {
  std::atomic<bool> started = false;
  std::atomic<bool> stopped_early = false;
  {
    std::optional<Periodic> periodic;
    periodic.emplace(1ms, [&](const std::stop_token& stop) {
      started = true;
      const auto give_up = std::chrono::steady_clock::now() + 30s;
      while (!stop.stop_requested() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
      stopped_early = stop.stop_requested();
    });
    while (!started) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(stopped_early);
}

TEST(PeriodicTest, RunsATaskEveryPeriod) {
  std::atomic<int> runs = 0;
  {
    const Periodic periodic(1ms, [&runs] { ++runs; });
    while (runs < 3) std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(runs, 3);
}

}  // namespace
}  // namespace argus
