#include "queue/queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <format>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <map>
#include <ostream>
#include <ranges>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/small_file_system_test.h"
#include "events/nats_server_test.h"
#include "queue/queue_test_util.h"

extern char** environ;

namespace argus::queue {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

enum class Backend : std::uint8_t { kSqlite, kNats };
std::string_view Name(Backend backend) { return backend == Backend::kSqlite ? "sqlite" : "nats"; }
void PrintTo(Backend backend, std::ostream* out) { *out << Name(backend); }

// The behaviour every back end shares, run on each.
class QueueTest : public NatsServerTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    NatsServerTest::SetUp();
    if (GetParam() == Backend::kSqlite) {
      url_ = "sqlite://" + (dir_ / "queue.db").string();
      return;
    }
    ASSERT_NO_FATAL_FAILURE(StartNats());
    url_ = server_->url();
  }

  const std::string& Url() const { return url_; }
  std::unique_ptr<Queue> Open(std::chrono::milliseconds visibility_timeout = 30s) {
    auto queue = OpenQueue(url_, {.visibility_timeout = visibility_timeout});
    if (!queue) {
      ADD_FAILURE() << queue.error().message;
      return nullptr;
    }
    return std::move(*queue);
  }

  std::string url_;
};

INSTANTIATE_TEST_SUITE_P(Backends, QueueTest, ::testing::Values(Backend::kSqlite, Backend::kNats),
                         [](const auto& info) { return std::string(Name(info.param)); });

TEST_P(QueueTest, DeliversInEnqueueOrder) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  std::vector<std::string> ids;
  ids.reserve(5);
  for (int i = 0; i < 5; ++i) ids.push_back(queue->Enqueue("job " + std::to_string(i)).value());
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);

  auto messages = MustReceive(*queue, 10);
  ASSERT_EQ(messages.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(messages[i].id, ids[i]);
    EXPECT_EQ(messages[i].body, "job " + std::to_string(i));
    EXPECT_EQ(messages[i].delivery_count, 1);
    EXPECT_FALSE(messages[i].receipt.empty());
  }
  EXPECT_EQ(Counts(*queue), (Counted{0, 5, 0}));
}

TEST_P(QueueTest, ReceiveTakesAtMostMax) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(queue->Enqueue(std::to_string(i)));
  std::vector<std::string> bodies;
  for (std::size_t expected : {2u, 2u, 1u, 0u}) {
    auto batch = MustReceive(*queue, 2);
    EXPECT_EQ(batch.size(), expected);
    for (const Message& message : batch) bodies.push_back(message.body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(queue->Receive(0, 0ms).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(QueueTest, KeepsBodiesByteForByte) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  const std::string binary("\0\xff{\"a\":1}\n\0"sv);
  const std::string large(1 << 20, 'x');
  ASSERT_TRUE(queue->Enqueue(binary));
  ASSERT_TRUE(queue->Enqueue(""));
  ASSERT_TRUE(queue->Enqueue(large));
  auto messages = MustReceive(*queue, 3);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].body, binary);
  EXPECT_EQ(messages[1].body, "");
  EXPECT_EQ(messages[2].body, large);
}

TEST_P(QueueTest, WaitsAboutTheWaitWhenEmpty) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  const auto start = Clock::now();
  EXPECT_TRUE(MustReceive(*queue, 1, 150ms).empty());
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 150ms);
  EXPECT_LT(waited, 5s);
}

TEST_P(QueueTest, WaitEndsWhenAMessageArrivesFromAnotherThread) {
  auto receiver = Open();
  auto sender = Open();
  ASSERT_TRUE(receiver && sender);
  std::thread enqueue([&] {
    std::this_thread::sleep_for(100ms);
    EXPECT_TRUE(sender->Enqueue("late"));
  });
  const auto start = Clock::now();
  auto messages = MustReceive(*receiver, 4, 20s);
  const auto waited = Clock::now() - start;
  enqueue.join();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body, "late");
  EXPECT_LT(waited, 10s);
}

TEST_P(QueueTest, RedeliversAfterTheVisibilityTimeoutWithANewReceipt) {
  auto queue = Open(200ms);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("slow job"));
  auto first = MustReceive(*queue, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(MustReceive(*queue, 1).empty()) << "hidden while in flight";

  auto second = MustReceive(*queue, 1, 5s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].id, first[0].id);
  EXPECT_EQ(second[0].body, "slow job");
  EXPECT_EQ(second[0].delivery_count, 2);
  EXPECT_NE(second[0].receipt, first[0].receipt);

  auto stale = queue->Ack(first[0]);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_THAT(stale.error().message, HasSubstr(first[0].id));
  EXPECT_TRUE(queue->Ack(second[0]));
  EXPECT_EQ(Counts(*queue), (Counted{0, 0, 0}));
}

TEST_P(QueueTest, AStaleReceiptChangesNothing) {
  auto queue = Open(200ms);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("job"));
  auto first = MustReceive(*queue, 1);
  ASSERT_EQ(first.size(), 1u);
  auto second = MustReceive(*queue, 1, 5s);
  ASSERT_EQ(second.size(), 1u);

  EXPECT_EQ(queue->Ack(first[0]).error().code, ErrorCode::kConflict);
  EXPECT_EQ(queue->Release(first[0], 0ms).error().code, ErrorCode::kConflict);
  EXPECT_EQ(queue->ExtendVisibility(first[0]).error().code, ErrorCode::kConflict);
  EXPECT_EQ(queue->MoveToDeadLetter(first[0], "stale").error().code, ErrorCode::kConflict);
  EXPECT_EQ(Counts(*queue), (Counted{0, 1, 0}));
  EXPECT_TRUE(queue->ListDeadLetters(10).value().empty());
  EXPECT_TRUE(queue->Ack(second[0])) << "the current delivery is untouched";

  Message foreign = second[0];
  foreign.id = "not-an-id";
  EXPECT_EQ(queue->Ack(foreign).error().code, ErrorCode::kInvalidArgument);
}

TEST_P(QueueTest, AckRemovesTheMessage) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("a"));
  ASSERT_TRUE(queue->Enqueue("b"));
  auto messages = MustReceive(*queue, 1);
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_TRUE(queue->Ack(messages[0]));
  EXPECT_EQ(Counts(*queue), (Counted{1, 0, 0}));
  EXPECT_EQ(queue->Ack(messages[0]).error().code, ErrorCode::kConflict) << "acked once only";
  auto rest = MustReceive(*queue, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].body, "b");
}

// The scaler tells light traffic from idleness by this count: it grows with every enqueue,
// also when the jobs are done and gone before the next reading, and across reopening.
TEST_P(QueueTest, TheEnqueuedTotalGrowsWithEveryJobAndOutlivesIt) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  const std::uint64_t before = queue->Stats().value().enqueued_total;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(queue->Enqueue("job " + std::to_string(i)));
    auto received = MustReceive(*queue, 1);
    ASSERT_EQ(received.size(), 1u);
    ASSERT_TRUE(queue->Ack(received[0]));
  }
  EXPECT_EQ(Counts(*queue), (Counted{0, 0, 0}));
  EXPECT_EQ(queue->Stats().value().enqueued_total, before + 3);
  queue.reset();
  auto reopened = Open();
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->Stats().value().enqueued_total, before + 3);
}

TEST_P(QueueTest, AckAllAcknowledgesEveryLiveDeliveryAndNamesTheOthers) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  for (const char* body : {"a", "b", "c", "d"}) ASSERT_TRUE(queue->Enqueue(body));
  auto first = MustReceive(*queue, 2);
  auto second = MustReceive(*queue, 2);  // another receipt
  ASSERT_EQ(first.size() + second.size(), 4u);
  ASSERT_TRUE(queue->Ack(second[1]));
  std::vector<Message> all = first;
  all.insert(all.end(), second.begin(), second.end());
  auto acked = queue->AckAll(all);
  ASSERT_FALSE(acked);
  EXPECT_EQ(acked.error().code, ErrorCode::kConflict);
  EXPECT_THAT(acked.error().message, HasSubstr(second[1].id));
  EXPECT_EQ(Counts(*queue), (Counted{0, 0, 0})) << "the live deliveries were acknowledged";
  EXPECT_TRUE(queue->AckAll({}));
}

TEST_P(QueueTest, ReleaseRetriesAfterTheDelay) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("retry me"));
  auto first = MustReceive(*queue, 1);
  ASSERT_EQ(first.size(), 1u);

  ASSERT_TRUE(queue->Release(first[0], 0ms));
  EXPECT_EQ(queue->Ack(first[0]).error().code, ErrorCode::kConflict) << "release spends it";
  auto second = MustReceive(*queue, 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].delivery_count, 2);

  const auto released_at = Clock::now();
  ASSERT_TRUE(queue->Release(second[0], 300ms));
  EXPECT_TRUE(MustReceive(*queue, 1).empty()) << "hidden during the delay";
  EXPECT_EQ(Counts(*queue), (Counted{0, 1, 0}));
  auto third = MustReceive(*queue, 1, 5s);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_GE(Clock::now() - released_at, 250ms);
  EXPECT_EQ(third[0].body, "retry me");
  EXPECT_EQ(third[0].delivery_count, 3);
}

TEST_P(QueueTest, ExtendVisibilityKeepsTheMessageHiddenPastTheTimeout) {
  auto queue = Open(400ms);
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("long job"));
  auto messages = MustReceive(*queue, 1);
  ASSERT_EQ(messages.size(), 1u);
  std::this_thread::sleep_for(250ms);
  ASSERT_TRUE(queue->ExtendVisibility(messages[0]));
  std::this_thread::sleep_for(250ms);  // past the first timeout, inside the extended one
  EXPECT_TRUE(MustReceive(*queue, 1).empty());
  EXPECT_TRUE(queue->Ack(messages[0]));
}

TEST_P(QueueTest, DeadLettersKeepTheirReasonAndTime) {
  auto queue = Open();
  ASSERT_TRUE(queue);
  ASSERT_TRUE(queue->Enqueue("poison"));
  ASSERT_TRUE(queue->Enqueue("fine"));
  ASSERT_TRUE(queue->Enqueue("also poison"));
  auto messages = MustReceive(*queue, 3);
  ASSERT_EQ(messages.size(), 3u);
  const std::int64_t before = NowMs();
  ASSERT_TRUE(queue->MoveToDeadLetter(messages[0], "cannot decode image"));
  ASSERT_TRUE(queue->MoveToDeadLetter(messages[2], "too large"));
  const std::int64_t after = NowMs();
  EXPECT_EQ(Counts(*queue), (Counted{0, 1, 2}));

  auto letters = queue->ListDeadLetters(10);
  ASSERT_TRUE(letters) << letters.error().message;
  ASSERT_EQ(letters->size(), 2u);
  EXPECT_EQ((*letters)[0].id, messages[0].id);
  EXPECT_EQ((*letters)[0].body, "poison");
  EXPECT_EQ((*letters)[0].reason, "cannot decode image");
  EXPECT_GE((*letters)[0].dead_at_ms, before);
  EXPECT_LE((*letters)[0].dead_at_ms, after);
  EXPECT_EQ((*letters)[1].reason, "too large");
  EXPECT_EQ(queue->ListDeadLetters(1).value().size(), 1u);

  EXPECT_EQ(queue->Ack(messages[0]).error().code, ErrorCode::kConflict);
  EXPECT_EQ(queue->MoveToDeadLetter(messages[0], "again").error().code, ErrorCode::kConflict);
  ASSERT_TRUE(queue->Release(messages[1], 0ms));
  auto left = MustReceive(*queue, 10);
  ASSERT_EQ(left.size(), 1u) << "dead letters are never delivered";
  EXPECT_EQ(left[0].body, "fine");
}

TEST_P(QueueTest, SurvivesReopeningAndReturnsUnackedMessagesAfterTheirTimeout) {
  std::string in_flight_id;
  {
    auto queue = Open(300ms);
    ASSERT_TRUE(queue);
    for (std::string body : {"one", "two", "three"}) ASSERT_TRUE(queue->Enqueue(body));
    auto taken = MustReceive(*queue, 1);
    ASSERT_EQ(taken.size(), 1u);
    in_flight_id = taken[0].id;
  }  // as if the worker process died holding "one"
  auto queue = Open(300ms);
  ASSERT_TRUE(queue);
  EXPECT_EQ(Counts(*queue), (Counted{2, 1, 0}));
  auto rest = MustReceive(*queue, 10);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].body, "two");
  EXPECT_EQ(rest[1].body, "three");
  auto returned = MustReceive(*queue, 1, 5s);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].id, in_flight_id);
  EXPECT_EQ(returned[0].body, "one");
  EXPECT_EQ(returned[0].delivery_count, 2);
}

// Receives and acknowledges until nothing is left; false on any error or redelivery.
bool Drain(Queue& queue, std::vector<std::string>& acked) {
  while (true) {
    auto received = queue.Receive(7, 300ms);
    if (!received) return false;
    if (received->empty()) return true;
    for (const Message& message : *received) {
      if (message.delivery_count != 1 || !queue.Ack(message)) return false;
      acked.push_back(message.id);
    }
  }
}

// Child processes are new runs of this test binary: a fork alone would copy the locks of the
// threads that nats.c and Drogon keep, but not the threads. The variable tells such a run
// its task, which it does before main, then exits.
constexpr char kChildTask[] = "ARGUS_QUEUE_TEST_CHILD";

// Enqueues three jobs, takes one and dies holding it, as a crashing worker would.
int CrashInChild(const std::string& url) {
  auto queue = OpenQueue(url, {.visibility_timeout = 300ms});
  if (!queue) return 2;
  for (std::string body : {"one", "two", "three"}) {
    if (!(*queue)->Enqueue(body)) return 3;
  }
  auto taken = (*queue)->Receive(1, 0ms);
  if (!taken || taken->size() != 1) return 4;
  ::kill(::getpid(), SIGKILL);  // no destructor, no checkpoint: as in a crash
  return 5;
}

// Opens the queue, reports ready, waits for the start, drains, and writes the acknowledged
// ids to `out_path`.
int DrainInChild(const std::string& url, int ready_fd, int go_fd, const std::string& out_path) {
  auto queue = OpenQueue(url, {});
  if (!queue) return 2;
  char byte = 'r';
  if (::write(ready_fd, &byte, 1) != 1 || ::read(go_fd, &byte, 1) != 1) return 3;
  std::vector<std::string> acked;
  if (!Drain(**queue, acked)) return 4;
  queue->reset();
  std::ofstream out(out_path);
  for (const std::string& id : acked) out << id << '\n';
  return out.good() ? 0 : 5;
}

// The task is "crash\nURL" or "drain\nURL\nREADY_FD\nGO_FD\nOUT_PATH". Returns the exit status.
int RunChildTask(std::string_view task) {
  std::vector<std::string> words;
  for (const auto word : std::views::split(task, '\n')) {
    words.emplace_back(word.begin(), word.end());
  }
  if (words.size() == 2 && words[0] == "crash") return CrashInChild(words[1]);
  if (words.size() == 5 && words[0] == "drain") {
    return DrainInChild(words[1], std::stoi(words[2]), std::stoi(words[3]), words[4]);
  }
  return 100;
}

[[maybe_unused]] const bool kIsChild = [] {
  if (const char* task = std::getenv(kChildTask)) std::_Exit(RunChildTask(task));
  return false;
}();

// Runs `task` in a new run of this binary, with the descriptors `close` closed there.
pid_t SpawnChild(const std::string& task, std::initializer_list<int> close = {}) {
  std::string variable = std::string(kChildTask) + "=" + task;
  std::vector<char*> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) environment.push_back(*entry);
  environment.push_back(variable.data());
  environment.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd : close) posix_spawn_file_actions_addclose(&actions, fd);
  char name[] = "queue_test";
  char* argv[] = {name, nullptr};
  pid_t child = -1;
  if (::posix_spawn(&child, "/proc/self/exe", &actions, nullptr, argv, environment.data()) != 0) {
    child = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return child;
}

TEST_P(QueueTest, KeepsWhatAKilledProcessCommitted) {
  const pid_t child = SpawnChild("crash\n" + Url());
  ASSERT_GE(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;

  auto queue = Open(300ms);
  ASSERT_TRUE(queue);
  EXPECT_EQ(Counts(*queue), (Counted{2, 1, 0}));
  auto returned = MustReceive(*queue, 3, 5s);
  ASSERT_EQ(returned.size(), 2u);
  EXPECT_EQ(returned[0].body, "two");
  for (const Message& message : returned) ASSERT_TRUE(queue->Ack(message));
  returned = MustReceive(*queue, 3, 5s);
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].body, "one");
  EXPECT_EQ(returned[0].delivery_count, 2);
}

TEST_P(QueueTest, IdsAreNeverReused) {
  std::string last_id;
  {
    auto queue = Open();
    ASSERT_TRUE(queue);
    last_id = queue->Enqueue("x").value();
    auto messages = MustReceive(*queue, 1);
    ASSERT_EQ(messages.size(), 1u);
    ASSERT_TRUE(queue->Ack(messages[0]));
  }
  auto queue = Open();
  ASSERT_TRUE(queue);
  EXPECT_GT(std::stoll(queue->Enqueue("y").value()), std::stoll(last_id));
}

class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe(fds_), 0); }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    CloseRead();
    CloseWrite();
  }
  int ReadFd() const { return fds_[0]; }
  int WriteFd() const { return fds_[1]; }
  void CloseRead() { Close(fds_[0]); }
  void CloseWrite() { Close(fds_[1]); }

 private:
  static void Close(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

TEST_P(QueueTest, DeliversEachMessageOnceToConcurrentQueuesAndProcesses) {
  constexpr int kMessages = 500;
  const std::string child_ids = (dir_ / "child-ids").string();
  Pipe ready;
  Pipe go;
  const pid_t child = SpawnChild(
      std::format("drain\n{}\n{}\n{}\n{}", Url(), ready.WriteFd(), go.ReadFd(), child_ids),
      {ready.ReadFd(), go.WriteFd()});
  ASSERT_GE(child, 0);
  ready.CloseWrite();
  go.CloseRead();
  char byte = 0;
  ASSERT_EQ(::read(ready.ReadFd(), &byte, 1), 1) << "the child could not open the queue";

  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  std::set<std::string> enqueued;
  for (int i = 0; i < kMessages; ++i) {
    enqueued.insert(first->Enqueue("job " + std::to_string(i)).value());
  }
  std::vector<std::string> acked_first, acked_second;
  std::atomic<bool> first_ok = false, second_ok = false;
  ASSERT_EQ(::write(go.WriteFd(), &byte, 1), 1);
  std::thread first_thread([&] { first_ok = Drain(*first, acked_first); });
  std::thread second_thread([&] { second_ok = Drain(*second, acked_second); });
  first_thread.join();
  second_thread.join();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_TRUE(first_ok);
  EXPECT_TRUE(second_ok);

  std::map<std::string, int> deliveries;
  for (const std::string& id : acked_first) ++deliveries[id];
  for (const std::string& id : acked_second) ++deliveries[id];
  std::ifstream in(child_ids);
  std::size_t child_count = 0;
  for (std::string id; std::getline(in, id); ++child_count) ++deliveries[id];
  std::set<std::string> delivered;
  for (const auto& [id, count] : deliveries) {
    EXPECT_EQ(count, 1) << "message " << id;
    delivered.insert(id);
  }
  EXPECT_EQ(delivered, enqueued);
  EXPECT_EQ(Counts(*first), (Counted{0, 0, 0}));
  std::cout << "acked: " << acked_first.size() << " + " << acked_second.size()
            << " in this process, " << child_count << " in the child\n";
}

TEST_P(QueueTest, QueuesOpenedTogetherShareOneQueue) {
  std::vector<std::unique_ptr<Queue>> queues(4);
  std::vector<std::thread> threads;
  threads.reserve(queues.size());
  for (auto& queue : queues) threads.emplace_back([&] { queue = Open(); });
  for (auto& thread : threads) thread.join();
  for (auto& queue : queues) ASSERT_TRUE(queue);
  ASSERT_TRUE(queues[0]->Enqueue("x"));
  EXPECT_EQ(Counts(*queues[3]), (Counted{1, 0, 0}));
}

TEST_P(QueueTest, RejectsANonPositiveVisibilityTimeout) {
  auto queue = OpenQueue(Url(), {.visibility_timeout = 0ms});
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenQueueTest, RejectsBadUrls) {
  for (std::string_view url : {"", "/plain/path.db", "queue.db", "sqlite://", "sqlite:/x.db",
                               "nats:/localhost:4222", "postgresql://user:secret@host/db"}) {
    SCOPED_TRACE(url);
    auto queue = OpenQueue(url, {});
    ASSERT_FALSE(queue);
    EXPECT_EQ(queue.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(queue.error().message, HasSubstr("sqlite://"));
    EXPECT_THAT(queue.error().message, ::testing::Not(HasSubstr("secret")));
  }
}

// The embedded queue's own concerns: its file.
class SqliteQueueTest : public TempDirTest {};

TEST_F(SqliteQueueTest, RelativeUrlsAreRelativeToTheWorkingDirectory) {
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  auto queue = OpenQueue("sqlite://data/queue.db", {});
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(queue) << queue.error().message;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / "data/queue.db"));
}

TEST_F(SqliteQueueTest, HandlesPathsThatNeedQuoting) {
  auto queue = OpenQueue("sqlite://" + (dir_ / "it's a \\ queue.db").string(), {});
  ASSERT_TRUE(queue) << queue.error().message;
  ASSERT_TRUE((*queue)->Enqueue("x"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / "it's a \\ queue.db"));
}

TEST_F(SqliteQueueTest, AWaitingReceiverListensForEnqueuesAndStopsListeningWhenClosed) {
  const std::filesystem::path wake_folder = dir_ / "queue.db.wake";
  auto count_listeners = [&] {
    std::error_code error;
    std::size_t sockets = 0;
    for (std::filesystem::directory_iterator it(wake_folder, error), end; !error && it != end;
         it.increment(error)) {
      sockets += it->is_socket() ? 1 : 0;
    }
    return sockets;
  };
  auto receiver = OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {});
  auto sender = OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {});
  ASSERT_TRUE(receiver && sender);
  EXPECT_EQ(count_listeners(), 0u) << "only a receiver that waits listens";
  std::jthread enqueue([&] {
    for (int i = 0; i < 2000 && count_listeners() == 0; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(count_listeners(), 1u);
    EXPECT_TRUE((*sender)->Enqueue("wake up"));
  });
  auto messages = MustReceive(**receiver, 1, 20s);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].body, "wake up");
  enqueue.join();
  receiver->reset();
  EXPECT_EQ(count_listeners(), 0u);
}

// On a file system of 256 KB of its own.
TEST_F(SqliteQueueTest, AFullDiskIsNoSpaceAndKeepsWhatWasQueued) {
  const std::filesystem::path small = dir_ / "small";
  SmallFileSystem file_system(small, "256k");
  if (!file_system.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << file_system.error();
  auto queue = OpenQueue("sqlite://" + (small / "queue.db").string(), {});
  ASSERT_TRUE(queue) << queue.error().message;
  const std::string body(4000, 'j');
  Result<std::string> enqueued;
  std::size_t queued = 0;
  for (; queued < 1000; ++queued) {
    enqueued = (*queue)->Enqueue(body);
    if (!enqueued) break;
  }
  ASSERT_FALSE(enqueued) << "256 KB held 1000 jobs";
  EXPECT_EQ(enqueued.error().code, ErrorCode::kNoSpace) << enqueued.error().message;
  EXPECT_EQ((*queue)->Stats().value().ready, queued);
}

TEST_F(SqliteQueueTest, ExplainsAnUnwritablePath) {
  std::ofstream(dir_ / "file") << "a file, not a folder";
  const std::string path = (dir_ / "file/queue.db").string();
  auto queue = OpenQueue("sqlite://" + path, {});
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::kIo);
  EXPECT_THAT(queue.error().message, HasSubstr(path));
}

// Damaged, not unavailable: a worker would wait for it for good.
TEST_F(SqliteQueueTest, ExplainsAFileThatIsNotADatabase) {
  std::ofstream(dir_ / "junk.db") << std::string(8192, 'j');
  auto queue = OpenQueue("sqlite://" + (dir_ / "junk.db").string(), {});
  ASSERT_FALSE(queue);
  EXPECT_EQ(queue.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(queue.error().message, HasSubstr((dir_ / "junk.db").string()));
  EXPECT_THAT(queue.error().message, HasSubstr("not a database"));
  EXPECT_THAT(queue.error().message, HasSubstr("move it aside"));
}

}  // namespace
}  // namespace argus::queue
