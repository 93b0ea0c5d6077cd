#include "worker/visibility_keeper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "common/temp_dir_test.h"

namespace argus::worker {
namespace {

using namespace std::chrono_literals;

class VisibilityKeeperTest : public TempDirTest {};

TEST_F(VisibilityKeeperTest, KeepsMessagesHiddenPastTheirTimeoutUntilItEnds) {
  const std::string url = "sqlite://" + (dir_ / "queue.db").string();
  auto holder = queue::OpenQueue(url, {.visibility_timeout = 300ms});
  auto other = queue::OpenQueue(url, {.visibility_timeout = 300ms});
  ASSERT_TRUE(holder && other);
  ASSERT_TRUE((*holder)->Enqueue("long job"));
  auto received = (*holder)->Receive(1, 0ms);
  ASSERT_TRUE(received && received->size() == 1u);
  VisibilityKeeper keeper(**holder, 100ms);
  {
    const auto holding = keeper.Keep(*received);
    // Three timeouts long: without the keeper the job would be delivered again.
    std::this_thread::sleep_for(900ms);
    auto meanwhile = (*other)->Receive(1, 0ms);
    ASSERT_TRUE(meanwhile);
    EXPECT_TRUE(meanwhile->empty()) << "delivered again while still being worked on";
  }
  auto after = (*other)->Receive(1, 5s);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u) << "once the batch is let go, the timeout runs again";
  EXPECT_EQ((*after)[0].body, "long job");
}

// A pipelined worker holds one batch being decoded and one in the model; letting go of one
// leaves the other extended.
TEST_F(VisibilityKeeperTest, KeepsEachBatchUntilItsOwnHoldingEnds) {
  const std::string url = "sqlite://" + (dir_ / "queue.db").string();
  auto holder = queue::OpenQueue(url, {.visibility_timeout = 300ms});
  auto other = queue::OpenQueue(url, {.visibility_timeout = 300ms});
  ASSERT_TRUE(holder && other);
  ASSERT_TRUE((*holder)->Enqueue("first batch"));
  ASSERT_TRUE((*holder)->Enqueue("second batch"));
  auto first = (*holder)->Receive(1, 0ms);
  auto second = (*holder)->Receive(1, 0ms);
  ASSERT_TRUE(first && first->size() == 1u && second && second->size() == 1u);
  VisibilityKeeper keeper(**holder, 100ms);
  auto holding_second = std::make_optional(keeper.Keep(*second));
  {
    const auto holding_first = keeper.Keep(*first);
    std::this_thread::sleep_for(900ms);
    auto meanwhile = (*other)->Receive(2, 0ms);
    ASSERT_TRUE(meanwhile);
    EXPECT_TRUE(meanwhile->empty()) << "a held batch was delivered again";
  }
  auto after_first = (*other)->Receive(2, 5s);
  ASSERT_TRUE(after_first);
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ((*after_first)[0].body, "first batch");
  ASSERT_TRUE((*other)->Ack((*after_first)[0]));
  std::this_thread::sleep_for(900ms);
  auto still_held = (*other)->Receive(1, 0ms);
  ASSERT_TRUE(still_held);
  EXPECT_TRUE(still_held->empty()) << "the second batch lost its extension with the first";
  holding_second.reset();
  auto after_second = (*other)->Receive(1, 5s);
  ASSERT_TRUE(after_second);
  ASSERT_EQ(after_second->size(), 1u);
  EXPECT_EQ((*after_second)[0].body, "second batch");
}

TEST_F(VisibilityKeeperTest, EndsPromptlyAndIgnoresAcknowledgedMessages) {
  auto queue = queue::OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {});
  ASSERT_TRUE(queue);
  ASSERT_TRUE((*queue)->Enqueue("done soon"));
  auto received = (*queue)->Receive(1, 0ms);
  ASSERT_TRUE(received && received->size() == 1u);
  const auto start = std::chrono::steady_clock::now();
  {
    VisibilityKeeper keeper(**queue, 20ms);
    const auto holding = keeper.Keep(*received);
    ASSERT_TRUE((*queue)->Ack(received->front()));
    std::this_thread::sleep_for(100ms);  // extensions of an acknowledged message fail quietly
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  auto stats = (*queue)->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->ready + stats->in_flight, 0u);
}

}  // namespace
}  // namespace argus::worker
