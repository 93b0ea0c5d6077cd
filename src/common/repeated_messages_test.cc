#include "common/repeated_messages.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace argus {
namespace {

using std::chrono::seconds;

TEST(RepeatedMessagesTest, ACopyIsHeldBackWithinThePeriodAndCountedWhenTheNextIsWritten) {
  RepeatedMessages messages(seconds(10));
  const auto start = RepeatedMessages::Clock::time_point() + seconds(100);
  EXPECT_EQ(messages.Admit("queue down", start), std::optional<std::uint64_t>(0));
  EXPECT_EQ(messages.Admit("queue down", start + seconds(1)), std::nullopt);
  EXPECT_EQ(messages.Admit("queue down", start + seconds(9)), std::nullopt);
  EXPECT_EQ(messages.Admit("catalog down", start + seconds(9)), std::optional<std::uint64_t>(0))
      << "another message has a period of its own";
  EXPECT_EQ(messages.Admit("queue down", start + seconds(10)), std::optional<std::uint64_t>(2));
  EXPECT_EQ(messages.Admit("queue down", start + seconds(21)), std::optional<std::uint64_t>(0));
}

TEST(RepeatedMessagesTest, ManyDifferentMessagesAreEachLetThroughAndTheRememberedOnesBounded) {
  RepeatedMessages messages(seconds(10));
  const auto start = RepeatedMessages::Clock::time_point() + seconds(100);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(messages.Admit("image " + std::to_string(i), start + seconds(i)),
              std::optional<std::uint64_t>(0));
  }
  // Still remembered: seen a second ago.
  EXPECT_EQ(messages.Admit("image 999", start + seconds(1000)), std::nullopt);
  // More new messages at once than are remembered: each is still let through once.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(messages.Admit("burst " + std::to_string(i), start + seconds(1001)),
              std::optional<std::uint64_t>(0));
  }
}

TEST(RepeatedMessagesTest, MessagesThatDifferOnlyInTheIdsTheyNameAreCopies) {
  RepeatedMessages messages(seconds(10));
  const auto start = RepeatedMessages::Clock::time_point() + seconds(100);
  const auto about = [](char digit) {
    return "S3 HEAD http://127.0.0.1:9000/argus/inputs/" + std::string(64, digit) +
           " failed: Could not connect to server";
  };
  EXPECT_EQ(messages.Admit(about('a'), start), std::optional<std::uint64_t>(0));
  EXPECT_EQ(messages.Admit(about('b'), start + seconds(1)), std::nullopt);
  EXPECT_EQ(messages.Admit(about('3'), start + seconds(2)), std::nullopt);
  EXPECT_EQ(messages.Admit(about('c'), start + seconds(10)), std::optional<std::uint64_t>(2));
  // Short numbers are part of what a message says: another port is another store.
  EXPECT_EQ(messages.Admit("cannot reach 127.0.0.1:9001", start), std::optional<std::uint64_t>(0));
  EXPECT_EQ(messages.Admit("cannot reach 127.0.0.1:9002", start), std::optional<std::uint64_t>(0));
}

TEST(RepeatedMessagesTest, AMessageLetThroughSaysHowManyCopiesWereHeldBack) {
  EXPECT_EQ(WithCopiesHeldBack("store down", 0), "store down");
  EXPECT_EQ(WithCopiesHeldBack("store down", 3),
            "store down (and 3 more times since it was last logged)");
}

}  // namespace
}  // namespace argus
