#include "events/event_bus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/nats_server_test.h"

namespace argus::events {
namespace {

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
    return arrived.wait_for(lock, std::chrono::seconds(5),
                            [&] { return payloads.size() >= count; });
  }
  std::size_t Size() {
    std::lock_guard lock(mutex);
    return payloads.size();
  }
};

enum class Backend : std::uint8_t { kUnix, kNats };
std::string_view Name(Backend backend) { return backend == Backend::kUnix ? "unix" : "nats"; }
void PrintTo(Backend backend, std::ostream* out) { *out << Name(backend); }

// The behaviour every back end shares, run on each.
class EventBusTest : public NatsServerTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    NatsServerTest::SetUp();
    if (GetParam() == Backend::kUnix) {
      url_ = "unix://" + (dir_ / "events.sock").string();
      return;
    }
    ASSERT_NO_FATAL_FAILURE(StartNats());
    url_ = server_->url();
  }

  std::string url_;
};

INSTANTIATE_TEST_SUITE_P(Backends, EventBusTest, ::testing::Values(Backend::kUnix, Backend::kNats),
                         [](const auto& info) { return std::string(Name(info.param)); });

TEST_P(EventBusTest, DeliversPublishedEventsWhole) {
  auto subscriber_bus = OpenEventBus(url_);
  ASSERT_TRUE(subscriber_bus);
  Inbox inbox;
  auto subscription = (*subscriber_bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription) << subscription.error().message;

  auto publisher = OpenEventBus(url_);  // as another process would
  ASSERT_TRUE(publisher);
  const std::string big(std::size_t{60} * 1024, 'x');
  ASSERT_TRUE((*publisher)->Publish(R"({"id":"a","status":"done"})"));
  ASSERT_TRUE((*publisher)->Publish(big));
  ASSERT_TRUE(inbox.WaitFor(2));
  EXPECT_EQ(inbox.payloads[0], R"({"id":"a","status":"done"})");
  EXPECT_EQ(inbox.payloads[1], big);
}

TEST_P(EventBusTest, ABurstFromSeveralThreadsArrivesComplete) {
  auto bus = OpenEventBus(url_);
  ASSERT_TRUE(bus);
  Inbox inbox;
  auto subscription = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription);
  constexpr int kPublishers = 4;
  std::vector<std::jthread> publishers;
  publishers.reserve(kPublishers);
  for (int t = 0; t < kPublishers; ++t) {
    publishers.emplace_back([&, t] {
      auto own = OpenEventBus(url_);
      for (int i = 0; i < 250; ++i) ASSERT_TRUE((*own)->Publish(std::to_string(t * 1000 + i)));
    });
  }
  publishers.clear();
  ASSERT_TRUE(inbox.WaitFor(1000));
  EXPECT_EQ(std::set<std::string>(inbox.payloads.begin(), inbox.payloads.end()).size(), 1000u);
}

TEST_P(EventBusTest, PublishingWithoutSubscriberIsFineAndDropped) {
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

// The Unix socket's own concerns.
class UnixEventBusTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    url_ = "unix://" + (dir_ / "events.sock").string();
  }

  std::string url_;
};

TEST_F(UnixEventBusTest, ASocketLeftByAKilledProcessIsReplaced) {
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

// Removed under a running service, the socket is bound again: the workers' events had nowhere
// to go, and every POST / waited for the once-a-second catalog check.
TEST_F(UnixEventBusTest, ASocketRemovedUnderTheSubscriberIsListenedOnAgain) {
  auto bus = OpenEventBus(url_);
  Inbox inbox;
  auto subscription = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription) << subscription.error().message;
  std::filesystem::remove(dir_ / "events.sock");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!std::filesystem::exists(dir_ / "events.sock") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE((*bus)->Publish("heard again"));
  ASSERT_TRUE(inbox.WaitFor(1));
}

// One subscriber at a time: a second one (a second `argus serve` on the same data directory)
// is refused and leaves the first one its socket, during and after the attempt.
TEST_F(UnixEventBusTest, ASecondSubscriberIsRefusedAndTheFirstKeepsItsSocket) {
  auto bus = OpenEventBus(url_);
  Inbox inbox;
  auto first = (*bus)->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(first) << first.error().message;
  auto second_bus = OpenEventBus(url_);
  auto second = (*second_bus)->Subscribe([](std::string_view) {});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_THAT(second.error().message, ::testing::HasSubstr("same data directory"));
  ASSERT_TRUE((*second_bus)->Publish("still heard"));
  ASSERT_TRUE(inbox.WaitFor(1));
  // Once the first one has ended, the socket can be listened on again.
  first->reset();
  auto third = (*second_bus)->Subscribe([](std::string_view) {});
  EXPECT_TRUE(third) << third.error().message;
}

TEST_F(UnixEventBusTest, RejectsBadUrlsAndOversizedEvents) {
  EXPECT_EQ(OpenEventBus("unix://").error().code, ErrorCode::kInvalidArgument);
  auto bus = OpenEventBus(url_);
  EXPECT_EQ((*bus)->Publish(std::string(std::size_t{65} * 1024, 'x')).error().code,
            ErrorCode::kInvalidArgument);
  auto long_path = OpenEventBus("unix:///" + std::string(200, 'a'));
  ASSERT_TRUE(long_path);
  EXPECT_FALSE((*long_path)->Subscribe([](std::string_view) {}));
}

TEST_F(UnixEventBusTest, ItsOneSubscriberHearsEachEventOnceSoThereAreNoGroups) {
  auto bus = OpenEventBus(url_);
  ASSERT_TRUE(bus);
  EXPECT_FALSE((*bus)->ReachesEverySubscriber());
  auto grouped = (*bus)->SubscribeInGroup("counters", [](std::string_view) {});
  ASSERT_FALSE(grouped);
  EXPECT_EQ(grouped.error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenEventBusTest, RejectsBadUrls) {
  for (std::string_view url : {"", "/events.sock", "redis://x", "nats://", "nats:///NAME",
                               "nats://user:secret@127.0.0.1:4222/a.b"}) {
    SCOPED_TRACE(url);
    auto bus = OpenEventBus(url);
    ASSERT_FALSE(bus);
    EXPECT_EQ(bus.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(bus.error().message, ::testing::Not(::testing::HasSubstr("secret")));
  }
}

// NATS's own concerns: several web replicas, a server that goes away.
class NatsEventBusTest : public NatsServerTest {
 protected:
  void SetUp() override {
    NatsServerTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartNats());
  }

  std::unique_ptr<EventBus> Open() {
    auto bus = OpenEventBus(server_->url());
    if (!bus) {
      ADD_FAILURE() << bus.error().message;
      return nullptr;
    }
    return std::move(*bus);
  }
};

TEST_F(NatsEventBusTest, EveryReplicaGetsEveryEvent) {
  auto replica_a = Open();
  auto replica_b = Open();
  auto worker = Open();
  ASSERT_TRUE(replica_a && replica_b && worker);
  Inbox inbox_a, inbox_b;
  auto subscription_a = replica_a->Subscribe([&](std::string_view p) { inbox_a.Add(p); });
  auto subscription_b = replica_b->Subscribe([&](std::string_view p) { inbox_b.Add(p); });
  ASSERT_TRUE(subscription_a && subscription_b);
  std::vector<std::string> sent;
  for (int i = 0; i < 100; ++i) {
    sent.push_back(R"({"id":")" + std::to_string(i) + R"(","status":"done"})");
    ASSERT_TRUE(worker->Publish(sent.back()));
  }
  ASSERT_TRUE(inbox_a.WaitFor(sent.size()));
  ASSERT_TRUE(inbox_b.WaitFor(sent.size()));
  EXPECT_EQ(inbox_a.payloads, sent);
  EXPECT_EQ(inbox_b.payloads, sent);
}

TEST_F(NatsEventBusTest, ReplicasInAGroupShareTheEventsBetweenThem) {
  auto replica_a = Open();
  auto replica_b = Open();
  auto worker = Open();
  ASSERT_TRUE(replica_a && replica_b && worker);
  EXPECT_TRUE(replica_a->ReachesEverySubscriber());
  Inbox shared_a, shared_b, everything;
  auto in_a = replica_a->SubscribeInGroup("counters", [&](std::string_view p) { shared_a.Add(p); });
  auto in_b = replica_b->SubscribeInGroup("counters", [&](std::string_view p) { shared_b.Add(p); });
  auto all = replica_a->Subscribe([&](std::string_view p) { everything.Add(p); });
  ASSERT_TRUE(in_a && in_b && all);
  constexpr int kEvents = 200;
  for (int i = 0; i < kEvents; ++i) ASSERT_TRUE(worker->Publish(std::to_string(i)));
  ASSERT_TRUE(everything.WaitFor(kEvents));
  // The group's members had every event between them, each once.
  std::vector<std::string> shared;
  for (int waited = 0; waited < 500 && shared_a.Size() + shared_b.Size() < kEvents; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::scoped_lock lock(shared_a.mutex, shared_b.mutex);
    shared = shared_a.payloads;
    shared.insert(shared.end(), shared_b.payloads.begin(), shared_b.payloads.end());
  }
  std::ranges::sort(shared);
  std::vector<std::string> expected = everything.payloads;
  std::ranges::sort(expected);
  EXPECT_EQ(shared, expected);
  EXPECT_GT(shared_a.Size(), 0u);
  EXPECT_GT(shared_b.Size(), 0u);
  EXPECT_EQ(replica_a->SubscribeInGroup("", [](std::string_view) {}).error().code,
            ErrorCode::kInvalidArgument);
}

TEST_F(NatsEventBusTest, AnEndedSubscriptionGetsNothingMore) {
  auto bus = Open();
  ASSERT_TRUE(bus);
  Inbox ended, open;
  auto subscription = bus->Subscribe([&](std::string_view p) { ended.Add(p); });
  auto witness = bus->Subscribe([&](std::string_view p) { open.Add(p); });
  ASSERT_TRUE(subscription && witness);
  ASSERT_TRUE(bus->Publish("before"));
  ASSERT_TRUE(ended.WaitFor(1));
  subscription->reset();
  ASSERT_TRUE(bus->Publish("after"));
  ASSERT_TRUE(open.WaitFor(2));
  EXPECT_EQ(ended.Size(), 1u);
}

TEST_F(NatsEventBusTest, SubscriptionsOutliveARestartOfTheServer) {
  auto bus = Open();
  ASSERT_TRUE(bus);
  Inbox inbox;
  auto subscription = bus->Subscribe([&](std::string_view p) { inbox.Add(p); });
  ASSERT_TRUE(subscription);
  server_->Stop(SIGTERM);
  ASSERT_TRUE(server_->Launch());
  // Events published before the client is back are lost (NATS keeps no core messages).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (inbox.Size() == 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(bus->Publish("are you there?"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(inbox.Size(), 0u);
}

TEST_F(NatsEventBusTest, AnUnreachableServerIsUnavailableAtOnce) {
  auto port = nats::FreePort();
  ASSERT_TRUE(port);
  const auto start = std::chrono::steady_clock::now();
  auto bus = OpenEventBus("nats://127.0.0.1:" + std::to_string(*port));
  ASSERT_FALSE(bus);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(bus.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(bus.error().message, ::testing::HasSubstr(std::to_string(*port)));
}

}  // namespace
}  // namespace argus::events
