#include "queue/wake_channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir_test.h"

namespace argus::queue {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class WakeChannelTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    folder_ = dir_ / "wake";
  }

  std::size_t SocketsInFolder() const {
    std::size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(folder_)) {
      if (entry.is_socket()) ++count;
    }
    return count;
  }

  std::filesystem::path folder_;
};

TEST_F(WakeChannelTest, NotifyFromAnotherChannelEndsAWait) {
  WakeChannel listener(folder_);
  ASSERT_TRUE(listener.Listen());
  std::jthread notifier([this] {
    std::this_thread::sleep_for(50ms);
    WakeChannel(folder_).Notify();
  });
  const auto start = Clock::now();
  listener.Wait(60s);
  EXPECT_LT(Clock::now() - start, 30s) << "the wait ran to its timeout instead of waking";
}

TEST_F(WakeChannelTest, WakeUpsSentBeforeTheWaitAreNotLostAndAreConsumedOnce) {
  WakeChannel listener(folder_);
  ASSERT_TRUE(listener.Listen());
  WakeChannel notifier(folder_);
  notifier.Notify();
  notifier.Notify();
  auto start = Clock::now();
  listener.Wait(60s);
  EXPECT_LT(Clock::now() - start, 30s);
  // Both pending wake-ups were consumed: the next wait runs to its timeout.
  start = Clock::now();
  listener.Wait(100ms);
  EXPECT_GE(Clock::now() - start, 90ms);
}

TEST_F(WakeChannelTest, EveryListenerIsWoken) {
  WakeChannel first(folder_);
  WakeChannel second(folder_);
  ASSERT_TRUE(first.Listen());
  ASSERT_TRUE(second.Listen());
  EXPECT_EQ(SocketsInFolder(), 2u);
  WakeChannel(folder_).Notify();
  const auto start = Clock::now();
  first.Wait(60s);
  second.Wait(60s);
  EXPECT_LT(Clock::now() - start, 30s);
}

TEST_F(WakeChannelTest, TextsReachEveryListenerInOrderAndPlainWakeUpsCarryNone) {
  WakeChannel first(folder_);
  WakeChannel second(folder_);
  ASSERT_TRUE(first.Listen());
  ASSERT_TRUE(second.Listen());
  WakeChannel notifier(folder_);
  notifier.Notify("one");
  notifier.Notify();
  notifier.Notify(std::string(WakeChannel::kMaxTextSize, 'x'));
  const std::vector<std::string> expected{"one", std::string(WakeChannel::kMaxTextSize, 'x')};
  EXPECT_EQ(first.Wait(60s), expected);
  EXPECT_EQ(second.Wait(60s), expected);

  notifier.Notify();
  const auto start = Clock::now();
  EXPECT_TRUE(first.Wait(60s).empty());
  EXPECT_LT(Clock::now() - start, 30s) << "a plain wake-up did not end the wait";
}

TEST_F(WakeChannelTest, ATextForALoneListenerReachesOnlyALoneListener) {
  WakeChannel notifier(folder_);
  notifier.NotifyWithTextIfAlone("nobody hears this");  // before any listener made the folder
  WakeChannel first(folder_);
  ASSERT_TRUE(first.Listen());
  notifier.NotifyWithTextIfAlone("alone");
  EXPECT_EQ(first.Wait(60s), std::vector<std::string>{"alone"});

  WakeChannel second(folder_);
  ASSERT_TRUE(second.Listen());
  notifier.NotifyWithTextIfAlone("not alone");
  const auto start = Clock::now();
  EXPECT_EQ(first.Wait(60s), std::vector<std::string>{}) << "told beside another listener";
  EXPECT_EQ(second.Wait(60s), std::vector<std::string>{});
  EXPECT_LT(Clock::now() - start, 30s) << "not woken";
}

TEST_F(WakeChannelTest, ANotifierReachesListenersThatCameAndGoesPastThoseThatLeft) {
  WakeChannel notifier(folder_);
  std::optional<WakeChannel> first(std::in_place, folder_);
  ASSERT_TRUE(first->Listen());
  notifier.Notify();
  first->Wait(60s);

  // The notifier listed the folder for its first wake-up; a listener that comes later is
  // still reached, and one that left is not sent to.
  WakeChannel second(folder_);
  ASSERT_TRUE(second.Listen());
  first.reset();
  for (int round = 0; round < 3; ++round) {
    notifier.Notify();
    const auto start = Clock::now();
    second.Wait(60s);
    EXPECT_LT(Clock::now() - start, 30s) << "round " << round;
  }
  EXPECT_EQ(SocketsInFolder(), 1u);
}

TEST_F(WakeChannelTest, ASocketLeftByADeadProcessIsRemovedAndAClosedChannelLeavesNone) {
  {
    WakeChannel closed(folder_);
    ASSERT_TRUE(closed.Listen());
    EXPECT_EQ(SocketsInFolder(), 1u);
  }
  EXPECT_EQ(SocketsInFolder(), 0u);

  // What a killed process leaves: a bound socket file that nobody listens on any more.
  const std::string stale = (folder_ / "999999.deadbeef").string();
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, stale.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
  WakeChannel live(folder_);
  ASSERT_TRUE(live.Listen());
  EXPECT_EQ(SocketsInFolder(), 2u);

  WakeChannel(folder_).Notify();
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_EQ(SocketsInFolder(), 1u);
}

TEST_F(WakeChannelTest, AFolderTooDeepForASocketAddressCannotListen) {
  WakeChannel deep(folder_ / std::string(120, 'd'));
  EXPECT_FALSE(deep.Listen());
  deep.Notify();  // nothing to wake, and no error
}

}  // namespace
}  // namespace argus::queue
