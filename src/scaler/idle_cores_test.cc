#include "scaler/idle_cores.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace argus::scaler {
namespace {

constexpr std::string_view kTwoCores =
    "cpu  100 5 50 800 20 3 2 10 7 0\n"
    "cpu0 50 2 25 400 10 1 1 5 7 0\n"
    "cpu1 50 3 25 400 10 2 1 5 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

TEST(IdleCoresTest, ReadsTheSummaryLineAndCountsTheCores) {
  const auto parsed = ParseCpuTimes(kTwoCores);
  ASSERT_TRUE(parsed.has_value());
  const CpuTimes times = parsed.value_or(CpuTimes{});
  EXPECT_EQ(times.idle, 820u);   // idle + iowait
  EXPECT_EQ(times.total, 990u);  // guest time is already in user time
  EXPECT_EQ(times.cores, 2);
}

TEST(IdleCoresTest, RefusesTextWithoutCpuCounters) {
  EXPECT_FALSE(ParseCpuTimes("").has_value());
  EXPECT_FALSE(ParseCpuTimes("intr 1 2 3\n").has_value());
  EXPECT_FALSE(ParseCpuTimes("cpu  1 2 x 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n").has_value());
  EXPECT_FALSE(ParseCpuTimes("cpu  1 2 3\ncpu0 1 2 3\n").has_value());
}

TEST(IdleCoresTest, IdleShareOfTheTicksBetweenTwoReadingsTimesTheCores) {
  const CpuTimes before{.idle = 1000, .total = 2000, .cores = 4};
  // 200 ticks passed over four cores, 50 of them idle: one core's worth.
  const auto idle = IdleCoresBetween(before, {.idle = 1050, .total = 2200, .cores = 4});
  ASSERT_TRUE(idle.has_value());
  EXPECT_DOUBLE_EQ(idle.value_or(-1.0), 1.0);
  EXPECT_FALSE(IdleCoresBetween(before, before).has_value());  // no time passed
  EXPECT_FALSE(IdleCoresBetween(before, {.idle = 900, .total = 2100, .cores = 4}).has_value());
}

TEST(IdleCoresTest, MeterSeesNoIdleCoreWhileEveryCoreSpins) {
  IdleCoresMeter meter;
  EXPECT_FALSE(meter.Sample().has_value());  // nothing to compare with yet
  std::atomic<bool> spinning = true;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::jthread> spinners;
  spinners.reserve(cores);
  for (unsigned i = 0; i < cores; ++i) {
    spinners.emplace_back([&spinning] {
      while (spinning.load(std::memory_order_relaxed)) {
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (void)meter.Sample();  // from here on every core has a spinner
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto idle = meter.Sample();
  spinning = false;
  ASSERT_TRUE(idle.has_value());
  EXPECT_GE(idle.value_or(-1.0), 0.0);
  EXPECT_LT(idle.value_or(-1.0), 0.5);
}

}  // namespace
}  // namespace argus::scaler
