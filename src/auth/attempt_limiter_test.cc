#include "auth/attempt_limiter.h"

#include <gtest/gtest.h>

namespace argus::auth {
namespace {

using std::chrono::seconds;

class AttemptLimiterTest : public ::testing::Test {
 protected:
  AttemptLimiter limiter_{3, seconds(60)};
  AttemptLimiter::Clock::time_point start_ = AttemptLimiter::Clock::now();
};

TEST_F(AttemptLimiterTest, AClientIsRefusedAtTheLimitUntilItsOldestAttemptAgesOut) {
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_), seconds(0));
  limiter_.Record("10.0.0.1", start_);
  limiter_.Record("10.0.0.1", start_ + seconds(10));
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + seconds(10)), seconds(0));
  limiter_.Record("10.0.0.1", start_ + seconds(20));

  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + seconds(20)), seconds(40));
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + std::chrono::milliseconds(59'500)), seconds(1))
      << "rounded up, never 0 while refused";
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + seconds(60)), seconds(0));
  limiter_.Record("10.0.0.1", start_ + seconds(60));
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + seconds(60)), seconds(10))
      << "the window slides: the attempt at 10 s is now the oldest";
}

TEST_F(AttemptLimiterTest, ClientsAreCountedApart) {
  for (int i = 0; i < 3; ++i) limiter_.Record("10.0.0.1", start_);
  EXPECT_GT(limiter_.WaitFor("10.0.0.1", start_), seconds(0));
  EXPECT_EQ(limiter_.WaitFor("10.0.0.2", start_), seconds(0));
  EXPECT_EQ(limiter_.WaitFor("::1", start_), seconds(0));
}

TEST_F(AttemptLimiterTest, ClientsWhoseAttemptsAgedOutAreForgotten) {
  for (int i = 0; i < 1000; ++i) limiter_.Record("10.0.0." + std::to_string(i), start_);
  EXPECT_EQ(limiter_.tracked_clients(), 1000U);
  limiter_.Record("10.1.0.1", start_ + seconds(61));
  EXPECT_EQ(limiter_.tracked_clients(), 1U) << "one sweep dropped every idle client";
  EXPECT_EQ(limiter_.WaitFor("10.0.0.1", start_ + seconds(61)), seconds(0));
}

}  // namespace
}  // namespace argus::auth
