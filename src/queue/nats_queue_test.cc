// What only the JetStream back end has: a server that goes away, AckWait, named streams.
// The behaviour it shares with the embedded queue is tested in queue_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <format>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "events/nats_server_test.h"
#include "queue/queue.h"
#include "queue/queue_test_util.h"

namespace argus::queue {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
class NatsQueueTest : public NatsServerTest {
 protected:
  void SetUp() override {
    NatsServerTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartNats());
  }

  std::unique_ptr<Queue> Open(std::chrono::milliseconds visibility_timeout = 30s,
                              std::string_view path = "") {
    auto queue =
        OpenQueue(server_->url() + std::string(path), {.visibility_timeout = visibility_timeout});
    if (!queue) {
      ADD_FAILURE() << queue.error().message;
      return nullptr;
    }
    return std::move(*queue);
  }
};

TEST_F(NatsQueueTest, ARestartOfTheServerLosesNoJob) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(queue->Enqueue("job " + std::to_string(i)));

  server_->Stop(SIGTERM);
  const auto stopped_at = Clock::now();
  auto enqueued = queue->Enqueue("during the outage");
  ASSERT_FALSE(enqueued);
  EXPECT_EQ(enqueued.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(enqueued.error().message, HasSubstr(std::to_string(server_->port())));
  auto received = queue->Receive(1, 5s);
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(queue->Stats().error().code, ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - stopped_at, 3s) << "failing during an outage is quick";

  ASSERT_TRUE(server_->Launch());
  // The client reconnects on its own, within its 2 s backoff.
  const auto deadline = Clock::now() + 20s;
  while (!queue->Stats() && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Counts(*queue), (Counted{20, 0, 0}));
  std::vector<std::string> bodies;
  for (const Message& message : MustReceive(*queue, 100, 5s)) {
    bodies.push_back(message.body);
    EXPECT_EQ(message.delivery_count, 1);
    EXPECT_TRUE(queue->Ack(message));
  }
  ASSERT_EQ(bodies.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(bodies[i], "job " + std::to_string(i));
}

// A server back on a new, empty store: the queue makes its streams and consumer again
// instead of failing until the process restarts.
TEST_F(NatsQueueTest, AServerThatLostItsStoreGetsTheStreamsAgain) {
  auto queue = Open(20s);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("before"));
  MustReceive(*queue, 1, 5s);

  server_->Stop(SIGTERM);
  std::filesystem::remove_all(dir_ / "nats" / "store");
  ASSERT_TRUE(server_->Launch());
  const auto deadline = Clock::now() + 20s;
  while (!queue->Stats() && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(Counts(*queue), (Counted{0, 0, 0})) << "the old job went with the store";

  ASSERT_TRUE(queue->Enqueue("after"));
  const std::vector<Message> received = MustReceive(*queue, 1, 5s);
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].body, "after");
  EXPECT_TRUE(queue->Ack(received[0]));
  auto consumer = Open(20s);  // another process opening it later finds the same settings
  ASSERT_TRUE(consumer);
}

// A server that keeps the connection and answers nothing (here: its process stopped) costs
// one reply wait; later calls fail at once until it answers again.
TEST_F(NatsQueueTest, AServerThatStopsAnsweringFailsQuicklyAndRecovers) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("before"));

  server_->Pause();
  auto start = Clock::now();
  auto unanswered = queue->Enqueue("unanswered");
  ASSERT_FALSE(unanswered);
  EXPECT_EQ(unanswered.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - start, 7s) << "one reply wait of 5 s, and no second one";

  start = Clock::now();
  auto refused = queue->Enqueue("refused");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("not answering"));
  EXPECT_THAT(refused.error().message, HasSubstr(std::to_string(server_->port())));
  EXPECT_EQ(queue->Stats().error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(queue->Receive(1, 2s).error().code, ErrorCode::kUnavailable);
  EXPECT_LT(Clock::now() - start, 500ms) << "no call waits once a request went unanswered";

  server_->Resume();
  const auto deadline = Clock::now() + 10s;
  Result<std::string> after = Fail(ErrorCode::kUnavailable, "not tried");
  while (!after && Clock::now() < deadline) {
    after = queue->Enqueue("after");
    if (!after) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(after) << after.error().message;
  std::vector<std::string> bodies;
  for (const Message& message : MustReceive(*queue, 10, 5s)) {
    bodies.push_back(message.body);
    EXPECT_TRUE(queue->Ack(message));
  }
  // The unanswered publication reached the server, which stores it once it runs again: an
  // error does not say that a job is not queued. The refused one was never sent.
  EXPECT_THAT(bodies, ::testing::IsSupersetOf({"before", "after"}));
  EXPECT_THAT(bodies, ::testing::Not(::testing::Contains("refused")));
}

TEST_F(NatsQueueTest, AnUnreachableServerIsUnavailableAtOnce) {
  auto port = nats::FreePort();
  ASSERT_TRUE(port);
  const auto start = Clock::now();
  auto queue = OpenQueue(std::format("nats://user:secret@127.0.0.1:{}", *port), {});
  ASSERT_FALSE(queue);
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_EQ(queue.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(queue.error().message, HasSubstr(std::format("127.0.0.1:{}", *port)));
  EXPECT_THAT(queue.error().message, ::testing::Not(HasSubstr("secret")));
}

TEST_F(NatsQueueTest, InProgressKeepsAJobPastItsAckWait) {
  auto worker = Open(300ms);
  auto other = Open(300ms);
  ASSERT_TRUE(worker && other);
  ASSERT_TRUE(worker->Enqueue("long batch"));
  auto taken = MustReceive(*worker, 1);
  ASSERT_EQ(taken.size(), 1u);
  for (int i = 0; i < 8; ++i) {  // 1.2 s: four AckWaits
    std::this_thread::sleep_for(150ms);
    ASSERT_TRUE(worker->ExtendVisibility(taken[0]));
    EXPECT_TRUE(MustReceive(*other, 1).empty());
  }
  EXPECT_TRUE(worker->Ack(taken[0]));
  EXPECT_EQ(Counts(*other), (Counted{0, 0, 0}));
}

TEST_F(NatsQueueTest, TheReceiversVisibilityTimeoutBecomesTheAckWait) {
  auto web = Open(30s);  // creates the consumer
  ASSERT_TRUE(web);
  ASSERT_TRUE(web->Enqueue("job"));
  auto worker = Open(250ms);
  ASSERT_TRUE(worker);
  auto first = MustReceive(*worker, 1);
  ASSERT_EQ(first.size(), 1u);
  auto again = MustReceive(*worker, 1, 10s);
  ASSERT_EQ(again.size(), 1u) << "redelivered after the worker's 250 ms, not the web's 30 s";
  EXPECT_EQ(again[0].delivery_count, 2);
  EXPECT_EQ(web->Ack(again[0]).error().code, ErrorCode::kConflict)
      << "a receipt is good only on the Queue that received it";
  EXPECT_TRUE(worker->Ack(again[0]));
}

TEST_F(NatsQueueTest, DeadLettersKeepAnyReasonAndAreSeenByEveryQueue) {
  auto worker = Open();
  auto web = Open();
  ASSERT_TRUE(worker && web);
  const std::string body("\0binary\xff"sv);
  ASSERT_TRUE(worker->Enqueue(body));
  auto taken = MustReceive(*worker, 1);
  ASSERT_EQ(taken.size(), 1u);
  const std::string reason = " gave up after 3 attempts:\r\n100% \"corrupt\" ünïcode\t ";
  ASSERT_TRUE(worker->MoveToDeadLetter(taken[0], reason));

  auto letters = web->ListDeadLetters(10);
  ASSERT_TRUE(letters) << letters.error().message;
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].id, taken[0].id);
  EXPECT_EQ((*letters)[0].body, body);
  EXPECT_EQ((*letters)[0].reason, reason);
  EXPECT_EQ(Counts(*web), (Counted{0, 0, 1}));
  EXPECT_TRUE(web->ListDeadLetters(0).value().empty());
}

TEST_F(NatsQueueTest, NamedStreamsAreSeparateQueues) {
  auto alpha = Open(30s, "/ALPHA");
  auto beta = Open(30s, "/beta-2");
  auto unnamed = Open();
  ASSERT_TRUE(alpha && beta && unnamed);
  ASSERT_TRUE(alpha->Enqueue("for alpha"));
  EXPECT_EQ(Counts(*beta), (Counted{0, 0, 0}));
  EXPECT_EQ(Counts(*unnamed), (Counted{0, 0, 0}));
  EXPECT_TRUE(MustReceive(*beta, 1).empty());
  auto taken = MustReceive(*alpha, 1);
  ASSERT_EQ(taken.size(), 1u);
  ASSERT_TRUE(alpha->MoveToDeadLetter(taken[0], "only here"));
  EXPECT_EQ(Counts(*alpha), (Counted{0, 0, 1}));
  EXPECT_EQ(Counts(*unnamed), (Counted{0, 0, 0}));
}

TEST_F(NatsQueueTest, AJobLargerThanTheServerTakesIsTooLarge) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  auto enqueued = queue->Enqueue(std::string((1 << 20) + 1, 'x'));
  ASSERT_FALSE(enqueued);
  EXPECT_EQ(enqueued.error().code, ErrorCode::kTooLarge);
}

TEST(OpenNatsQueueTest, RejectsBadUrls) {
  for (std::string_view url :
       {"nats://", "nats:///ARGUS", "nats://127.0.0.1:4222/a.b", "nats://127.0.0.1:4222/a/b",
        "nats://127.0.0.1:4222/a b", "nats://user:secret@127.0.0.1:4222/x*"}) {
    SCOPED_TRACE(url);
    auto queue = OpenQueue(url, {});
    ASSERT_FALSE(queue);
    EXPECT_EQ(queue.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(queue.error().message, ::testing::Not(HasSubstr("secret")));
  }
  EXPECT_EQ(OpenQueue("nats://127.0.0.1:4222/" + std::string(65, 'n'), {}).error().code,
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::queue
