#include "auth/attempt_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace argus::auth {
namespace {

using std::chrono::seconds;

class AttemptLimiterTest : public ::testing::Test {
 protected:
  AttemptLimiter limiter_{3, seconds(60)};
  AttemptLimiter::Clock::time_point start_ = AttemptLimiter::Clock::now();
};

TEST_F(AttemptLimiterTest, AClientIsRefusedAtTheLimitUntilItsOldestAttemptAgesOut) {
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(10)), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(20)), seconds(0));

  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(20)), seconds(40));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + std::chrono::milliseconds(59'500)), seconds(1))
      << "rounded up, never 0 while refused; a refusal is not counted";
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(60)), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(60)), seconds(10))
      << "the window slides: the attempt at 10 s is now the oldest";
}

TEST_F(AttemptLimiterTest, AForgivenAttemptNoLongerCounts) {
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(1)), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(2)), seconds(0));
  limiter_.Forgive("10.0.0.1", start_ + seconds(1));
  limiter_.Forgive("10.0.0.2", start_ + seconds(1));  // never admitted: nothing to take back
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(3)), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(3)), seconds(57))
      << "the attempts at 0, 2 and 3 s count";
}

TEST_F(AttemptLimiterTest, ClientsAreCountedApart) {
  for (int i = 0; i < 3; ++i) limiter_.Admit("10.0.0.1", start_);
  EXPECT_GT(limiter_.Admit("10.0.0.1", start_), seconds(0));
  EXPECT_EQ(limiter_.Admit("10.0.0.2", start_), seconds(0));
  EXPECT_EQ(limiter_.Admit("::1", start_), seconds(0));
}

TEST_F(AttemptLimiterTest, ClientsWhoseAttemptsAgedOutAreForgotten) {
  for (int i = 0; i < 1000; ++i) limiter_.Admit("10.0.0." + std::to_string(i), start_);
  EXPECT_EQ(limiter_.tracked_clients(), 1000U);
  limiter_.Admit("10.1.0.1", start_ + seconds(61));
  EXPECT_EQ(limiter_.tracked_clients(), 1U) << "one sweep dropped every idle client";
  EXPECT_EQ(limiter_.Admit("10.0.0.1", start_ + seconds(61)), seconds(0));
}

// Each attempt counts when admitted: attempts made at once cannot all pass one check.
TEST_F(AttemptLimiterTest, ConcurrentAttemptsAreAdmittedUpToTheLimit) {
  constexpr int kThreads = 16;
  std::atomic<int> admitted = 0;
  std::latch ready(kThreads);
  std::vector<std::jthread> threads;
  threads.reserve(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      ready.arrive_and_wait();
      if (limiter_.Admit("10.0.0.1", AttemptLimiter::Clock::now()) == seconds(0)) ++admitted;
    });
  }
  threads.clear();
  EXPECT_EQ(admitted, 3);
}

}  // namespace
}  // namespace argus::auth
