#include "events/event_bus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

namespace argus::events {
namespace {

class EventBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argus-events-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    url_ = "unix://" + (dir_ / "events.sock").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Collects payloads and lets a test wait for a number of them.
  struct Inbox {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::string> payloads;
    void Add(std::string_view payload) {
      std::lock_guard lock(mutex);
      payloads.emplace_back(payload);
      arrived.notify_all();
    }
    bool WaitFor(std::size_t count) {
      std::unique_lock lock(mutex);
      return arrived.wait_for(lock, std::chrono::seconds(5), [&] { return payloads.size() >= count; });
    }
  };

  std::filesystem::path dir_;
  std::string url_;
};

TEST_F(EventBusTest, DeliversPublishedEventsWhole) {
  auto subscriber_bus = OpenEventBus(url_);
  ASSERT_TRUE(subscriber_bus);
  Inbox inbox;
  auto subscription = (*subscriber_bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription) << subscription.error().message;

  auto publisher = OpenEventBus(url_);  // as another process would
  ASSERT_TRUE(publisher);
  const std::string big(60 * 1024, 'x');
  ASSERT_TRUE((*publisher)->Publish(R"({"id":"a","status":"done"})"));
  ASSERT_TRUE((*publisher)->Publish(big));
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(inbox.payloads[0], R"({"id":"a","status":"done"})");
  EXPECT_EQ(inbox.payloads[1], big);
}

TEST_F(EventBusTest, ABurstFromSeveralThreadsArrivesComplete) {
  auto bus = OpenEventBus(url_);
  ASSERT_TRUE(bus);
  Inbox inbox;
  auto subscription = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription);
  std::vector<std::jthread> publishers;
  for (int t = 0; t < 4; ++t) {
    publishers.emplace_back([&, t] {
      auto own = OpenEventBus(url_);
      for (int i = 0; i < 250; ++i) ASSERT_TRUE((*own)->Publish(std::to_string(t * 1000 + i)));
    });
  }
  publishers.clear();
  ASSERT_TRUE(inbox.WaitFor(1000));
  EXPECT_EQ(std::set<std::string>(inbox.payloads.begin(), inbox.payloads.end()).size(), 1000u);
}

TEST_F(EventBusTest, PublishingWithoutSubscriberIsFineAndDropped) {
  auto bus = OpenEventBus(url_);
  ASSERT_TRUE(bus);
  EXPECT_TRUE((*bus)->Publish("nobody listens"));
  Inbox inbox;
  auto subscription = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription);
  ASSERT_TRUE((*bus)->Publish("now"));
  ASSERT_TRUE(inbox.WaitFor(1));
  EXPECT_EQ(inbox.payloads, std::vector<std::string>{"now"});
}

TEST_F(EventBusTest, ASocketLeftByAKilledProcessIsReplaced) {
  std::ofstream(dir_ / "events.sock") << "stale";
  auto bus = OpenEventBus(url_);
  Inbox inbox;
  auto subscription = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription) << subscription.error().message;
  ASSERT_TRUE((*bus)->Publish("fresh"));
  ASSERT_TRUE(inbox.WaitFor(1));
  subscription->reset();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "events.sock"));
}

TEST_F(EventBusTest, RejectsBadUrlsAndOversizedEvents) {
  EXPECT_EQ(OpenEventBus("nats://x").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenEventBus("unix://").error().code, ErrorCode::kInvalidArgument);
  auto bus = OpenEventBus(url_);
  EXPECT_EQ((*bus)->Publish(std::string(65 * 1024, 'x')).error().code, ErrorCode::kInvalidArgument);
  auto long_path = OpenEventBus("unix:///" + std::string(200, 'a'));
  ASSERT_TRUE(long_path);
  EXPECT_FALSE((*long_path)->Subscribe([](std::string_view) {}));
}

}  // namespace
}  // namespace argus::events
