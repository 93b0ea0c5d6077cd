#include "cli/connection_watch.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/peer_key.h"

namespace argus::cli {
namespace {

using namespace std::chrono_literals;

// A listening socket on a free loopback port, and connections to it from this process: the
// accepted end plays the server's, the other the client's.
class ConnectionWatchTest : public ::testing::Test {
 protected:
  struct Connection {
    int client = -1;
    int server = -1;
    sockaddr_in client_address{};  // the peer the server sees
  };

  void SetUp() override {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(listen(listener_, 16), 0);
    socklen_t length = sizeof address;
    ASSERT_EQ(getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }

  void TearDown() override {
    for (const Connection& connection : connections_) {
      close(connection.client);
      close(connection.server);
    }
    close(listener_);
  }

  // `receive_buffer`: the client's, set before connecting (0: the default).
  Connection Connect(int receive_buffer = 0) {
    Connection connection;
    connection.client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) {
      setsockopt(connection.client, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(
        connect(connection.client, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    connection.server = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    socklen_t length = sizeof connection.client_address;
    getsockname(connection.client, reinterpret_cast<sockaddr*>(&connection.client_address),
                &length);
    connections_.push_back(connection);
    return connection;
  }

  static const sockaddr* Peer(const Connection& connection) {
    return reinterpret_cast<const sockaddr*>(&connection.client_address);
  }

  // What the server end may still send: false once the watch has shut it.
  static bool ServerCanSend(const Connection& connection) {
    return send(connection.server, "x", 1, MSG_NOSIGNAL) == 1;
  }

  static void ClientSends(const Connection& connection, std::size_t bytes) {
    const std::string data(bytes, 'a');
    ASSERT_EQ(send(connection.client, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes));
    std::this_thread::sleep_for(50ms);  // received by the server's end
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<Connection> connections_;
};

TEST_F(ConnectionWatchTest, AClientThatLeavesItsAnswersUnreadIsShutAtItsNextRequest) {
  ConnectionWatch watch(port_, {});
  const Connection reader = Connect();
  const Connection hoarder = Connect(4096);
  EXPECT_TRUE(watch.RequestArrived(Peer(reader)));
  EXPECT_TRUE(watch.RequestArrived(Peer(hoarder)));

  // Answers of 64 KiB each: the reader takes them, the hoarder does not.
  const std::string answer(64 * 1024, 'x');
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(send(reader.server, answer.data(), answer.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(answer.size()));
    std::string taken(answer.size(), '\0');
    for (std::size_t got = 0; got < taken.size();) {
      const ssize_t part = recv(reader.client, taken.data() + got, taken.size() - got, 0);
      ASSERT_GT(part, 0);
      got += static_cast<std::size_t>(part);
    }
    EXPECT_TRUE(watch.RequestArrived(Peer(reader))) << i;
  }
  while (send(hoarder.server, answer.data(), answer.size(), MSG_NOSIGNAL) > 0) {
  }
  EXPECT_FALSE(watch.RequestArrived(Peer(hoarder)));
  EXPECT_FALSE(ServerCanSend(hoarder));
  EXPECT_TRUE(ServerCanSend(reader));
}

TEST_F(ConnectionWatchTest, AClientSendingSlowerThanTheMinimumIsShutAfterTheGrace) {
  ConnectionWatch watch(port_, {.grace = 3s, .min_bytes_per_second = 1024});
  const Connection slow = Connect();
  const Connection quiet = Connect();
  const Connection steady = Connect();
  const auto start = ConnectionWatch::Clock::now();
  EXPECT_EQ(watch.ShutSlowSenders(start), 0);

  ClientSends(slow, 1);
  ClientSends(steady, 4096);
  EXPECT_EQ(watch.ShutSlowSenders(start + 1s), 0) << "within the grace";
  ClientSends(slow, 1);
  ClientSends(steady, 4096);
  EXPECT_EQ(watch.ShutSlowSenders(start + 2s), 0) << "within the grace";
  EXPECT_EQ(watch.ShutSlowSenders(start + 4s), 1);
  EXPECT_FALSE(ServerCanSend(slow));
  EXPECT_TRUE(ServerCanSend(quiet)) << "sending nothing is the idle timeout's business";
  EXPECT_TRUE(ServerCanSend(steady));

  // A request that arrived starts the count again: a client idle since is not slow, while
  // one that stopped part-way through its request is.
  ClientSends(quiet, 10);
  EXPECT_TRUE(watch.RequestArrived(Peer(quiet), start + 5s));
  EXPECT_EQ(watch.ShutSlowSenders(start + 60s), 1);
  EXPECT_TRUE(ServerCanSend(quiet));
  EXPECT_FALSE(ServerCanSend(steady));
}

TEST_F(ConnectionWatchTest, AClientThatHungUpIsNoLongerConnected) {
  ConnectionWatch watch(port_, {});
  const Connection staying = Connect();
  Connection leaving = Connect();
  EXPECT_TRUE(watch.IsConnected(PeerKey(Peer(leaving))));
  // The server's end stays open, as Drogon keeps it until the answer is given up.
  close(leaving.client);
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(watch.IsConnected(PeerKey(Peer(leaving))));
  EXPECT_TRUE(watch.IsConnected(PeerKey(Peer(staying))));
  close(leaving.server);
  EXPECT_FALSE(watch.IsConnected(PeerKey(Peer(leaving))));
  // Closed already: the fixture must not close their numbers again.
  connections_.erase(std::ranges::find_if(connections_, [&](const Connection& connection) {
    return connection.server == leaving.server;
  }));
}

}  // namespace
}  // namespace argus::cli
