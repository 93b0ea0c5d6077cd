#include "worker/handoff.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace argus::worker {
namespace {

TEST(HandoffTest, PassesValuesInOrderAndHoldsOneAtATime) {
  Handoff<int> handoff;
  std::vector<int> taken;
  std::jthread consumer([&] {
    while (auto value = handoff.Take()) taken.push_back(*value);
  });
  for (int i = 0; i < 100; ++i) handoff.Put(i);
  handoff.Close();
  consumer.join();
  ASSERT_EQ(taken.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(taken[i], i);
}

TEST(HandoffTest, CloseStillDeliversTheValueInTheSlot) {
  Handoff<std::string> handoff;
  handoff.Put("last");
  handoff.Close();
  EXPECT_EQ(handoff.Take(), "last");
  EXPECT_EQ(handoff.Take(), std::nullopt);
}

TEST(HandoffTest, PutWaitsUntilTheSlotIsTaken) {
  Handoff<int> handoff;
  handoff.Put(1);
  std::atomic<bool> second_put = false;
  std::jthread producer([&] {
    handoff.Put(2);
    second_put = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_put) << "a second value went into a full slot";
  EXPECT_EQ(handoff.Take(), 1);
  producer.join();
  EXPECT_TRUE(second_put);
  EXPECT_EQ(handoff.Take(), 2);
}

}  // namespace
}  // namespace argus::worker
