#include "api/handler_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <thread>

namespace argus::api {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(HandlerPoolTest, RunsWorkConcurrentlyOnThreadsOfItsOwn) {
  HandlerPool pool(3, 3);
  std::latch all_started(3);
  std::atomic<int> on_caller_thread = 0;
  std::atomic<int> finished = 0;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < 3; ++i) {
    pool.Run([&] {
      if (std::this_thread::get_id() == caller) ++on_caller_thread;
      all_started.arrive_and_wait();  // returns only once three run at the same time
      ++finished;
    });
  }
  ASSERT_TRUE(pool.WaitUntilIdle(Clock::now() + 10s));
  EXPECT_EQ(finished, 3);
  EXPECT_EQ(on_caller_thread, 0);
}

TEST(HandlerPoolTest, IsIdleOnlyOnceRunningAndQueuedWorkHasReturned) {
  HandlerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> finished = 0;
  pool.Run([&finished, released] {
    released.wait();
    ++finished;
  });
  pool.Run([&finished] { ++finished; });  // queued behind the first
  EXPECT_FALSE(pool.WaitUntilIdle(Clock::now() + 100ms));
  EXPECT_EQ(finished, 0);
  release.set_value();
  EXPECT_TRUE(pool.WaitUntilIdle(Clock::now() + 10s));
  EXPECT_EQ(finished, 2);
  EXPECT_TRUE(pool.WaitUntilIdle(Clock::now()));
}

TEST(HandlerPoolTest, RefusesWorkBeyondItsBacklogUnlessItMustRun) {
  HandlerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> finished = 0;
  EXPECT_TRUE(pool.TryRun([&finished, released] {
    released.wait();
    ++finished;
  }));
  EXPECT_TRUE(pool.TryRun([&finished] { ++finished; }));
  EXPECT_EQ(pool.unfinished(), 2u);
  EXPECT_FALSE(pool.TryRun([&finished] { finished += 100; }));
  EXPECT_EQ(pool.unfinished(), 2u);
  pool.Run([&finished] { ++finished; });  // beyond the backlog, all the same
  EXPECT_EQ(pool.unfinished(), 3u);
  EXPECT_EQ(pool.tried_unfinished(), 2u);
  release.set_value();
  ASSERT_TRUE(pool.WaitUntilIdle(Clock::now() + 10s));
  EXPECT_EQ(finished, 3);
  EXPECT_TRUE(pool.TryRun([&finished] { ++finished; }));  // room again
  ASSERT_TRUE(pool.WaitUntilIdle(Clock::now() + 10s));
  EXPECT_EQ(finished, 4);
}

// Answering clients admitted before (their once-a-second re-check among them) takes no room
// from new requests: more waiting clients than the bound had every other request refused 503
// each second.
TEST(HandlerPoolTest, WorkThatMustRunLeavesTheBacklogToNewWork) {
  HandlerPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> finished = 0;
  for (int i = 0; i < 5; ++i) {
    pool.Run([&finished, released] {
      released.wait();
      ++finished;
    });
  }
  EXPECT_TRUE(pool.TryRun([&finished] { ++finished; }));
  EXPECT_TRUE(pool.TryRun([&finished] { ++finished; }));
  EXPECT_FALSE(pool.TryRun([&finished] { finished += 100; })) << "its own backlog still counts";
  release.set_value();
  ASSERT_TRUE(pool.WaitUntilIdle(Clock::now() + 10s));
  EXPECT_EQ(finished, 7);
}

TEST(HandlerPoolTest, DestructionLetsQueuedWorkFinish) {
  std::atomic<int> finished = 0;
  {
    HandlerPool pool(1, 5);
    for (int i = 0; i < 5; ++i) {
      pool.Run([&finished] {
        std::this_thread::sleep_for(10ms);
        ++finished;
      });
    }
  }
  EXPECT_EQ(finished, 5);
}

}  // namespace
}  // namespace argus::api
