#include "common/silence_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "common/wait_test.h"

namespace argus {
namespace {

using namespace std::chrono_literals;

TEST(SilenceWatchTest, IsSilentFromAnUnansweredRequestUntilAProbeIsAnswered) {
  std::atomic<int> probes = 0;
  std::atomic<bool> server_answers = false;
  SilenceWatch watch(
      [&] {
        ++probes;
        return server_answers.load();
      },
      20ms);
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(watch.silent());
  EXPECT_EQ(probes, 0) << "no probe while every request is answered";

  watch.NoteUnanswered();
  EXPECT_TRUE(watch.silent());
  ASSERT_TRUE(WaitUntil([&] { return probes >= 3; }, 5s)) << "a failed probe is tried again";
  EXPECT_TRUE(watch.silent());

  server_answers = true;
  ASSERT_TRUE(WaitUntil([&] { return !watch.silent(); }, 5s));
  const int probes_sent = probes;
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(probes, probes_sent) << "probing ends with the silence";

  watch.NoteUnanswered();  // a second outage is watched as the first
  EXPECT_TRUE(watch.silent());
  ASSERT_TRUE(WaitUntil([&] { return !watch.silent(); }, 5s));
}

// Destroying the watch does not wait for the pause before the next probe, and sends none.
TEST(SilenceWatchTest, EndsWithoutWaitingForItsNextProbe) {
  std::atomic<int> probes = 0;
  std::optional<SilenceWatch> watch(
      std::in_place,
      [&] {
        ++probes;
        return false;
      },
      10s);
  watch->NoteUnanswered();
  const auto start = std::chrono::steady_clock::now();
  watch.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(probes, 0);
}

}  // namespace
}  // namespace argus
