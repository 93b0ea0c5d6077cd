#include "db/postgres_connection.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/file_descriptor.h"
#include "common/unused_port_test.h"
#include "db/drogon_client.h"

namespace argus::db {
namespace {

using std::chrono::milliseconds;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Int32(std::uint32_t value) {
  const std::uint32_t net = htonl(value);
  return std::string(reinterpret_cast<const char*>(&net), sizeof net);
}

// A backend message: its type, then its length (itself included) and body.
std::string Message(char type, const std::string& body) {
  return type + Int32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string Accepted() {
  using namespace std::string_literals;
  return Message('R', Int32(0)) + Message('S', "server_version\0"s + "17.0\0"s) + Message('Z', "I");
}

std::string Refused(const std::string& sql_state, const std::string& text) {
  using namespace std::string_literals;
  return Message('E',
                 "SFATAL\0"s + "VFATAL\0"s + "C" + sql_state + '\0' + "M" + text + '\0' + '\0');
}

bool ReadExactly(int fd, std::string& out, std::size_t size) {
  out.resize(size);
  for (std::size_t done = 0; done < size;) {
    const ssize_t got = ::recv(fd, out.data() + done, size - done, 0);
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// A PostgreSQL server on 127.0.0.1 that answers each connection's start-up message with
// the next of `replies` (the last one from then on) and counts the connections.
class FakePostgres {
 public:
  explicit FakePostgres(std::vector<std::string> replies)
      : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), replies_(std::move(replies)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (::bind(listener_.Get(), reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener_.Get(), 8) != 0 ||
        ::getsockname(listener_.Get(), reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::jthread([this](const std::stop_token& stop) { Serve(stop); });
  }

  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void Serve(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      pollfd ready{.fd = listener_.Get(), .events = POLLIN, .revents = 0};
      if (::poll(&ready, 1, 20) != 1) continue;
      FileDescriptor client(::accept4(listener_.Get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (client.Get() < 0) continue;
      const timeval limit{.tv_sec = 2, .tv_usec = 0};
      ::setsockopt(client.Get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      if (!ReadStartup(client.Get())) continue;
      const std::string& reply = replies_[std::min<std::size_t>(connections_, replies_.size() - 1)];
      ++connections_;
      ::send(client.Get(), reply.data(), reply.size(), MSG_NOSIGNAL);
      // Until the client hangs up, so that it reads the whole reply.
      std::string rest;
      while (ReadExactly(client.Get(), rest, 1)) {
      }
    }
  }

  // The start-up message, after declining any TLS or GSSAPI request that comes first.
  static bool ReadStartup(int fd) {
    constexpr std::uint32_t kSslRequest = 80877103, kGssRequest = 80877104;
    std::string length, body;
    while (ReadExactly(fd, length, 4)) {
      std::uint32_t size = 0;
      std::memcpy(&size, length.data(), 4);
      if (ntohl(size) < 8 || !ReadExactly(fd, body, ntohl(size) - 4)) return false;
      std::uint32_t code = 0;
      std::memcpy(&code, body.data(), 4);
      if (ntohl(code) != kSslRequest && ntohl(code) != kGssRequest) return true;
      if (::send(fd, "N", 1, MSG_NOSIGNAL) != 1) return false;
    }
    return false;
  }

  FileDescriptor listener_;
  std::vector<std::string> replies_;
  std::atomic<int> connections_ = 0;
  int port_ = 0;
  std::jthread thread_;
};

// Keyword/value options for a server on this machine, without TLS or GSSAPI to negotiate.
std::string Local(const std::string& host, int port, const std::string& rest = "") {
  return "host=" + host + " port=" + std::to_string(port) +
         " user=argus dbname=argus sslmode=disable gssencmode=disable" + rest;
}

auto Elapsed(std::chrono::steady_clock::time_point start) {
  return std::chrono::steady_clock::now() - start;
}

TEST(PinPostgresServerTest, RefusesWhatLibpqRefusesWithItsMessage) {
  auto bogus = PinPostgresServer(Local("127.0.0.1", 1, " bogus=1"), milliseconds(5000));
  ASSERT_FALSE(bogus);
  EXPECT_EQ(bogus.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bogus.error().message, "invalid connection option \"bogus\"");

  auto unterminated = PinPostgresServer("host='127.0.0.1", milliseconds(5000));
  ASSERT_FALSE(unterminated);
  EXPECT_EQ(unterminated.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(unterminated.error().message, HasSubstr("unterminated quoted string"));
}

TEST(PinPostgresServerTest, NamesAHostThatDoesNotResolve) {
  // .invalid never resolves (RFC 6761).
  const auto start = std::chrono::steady_clock::now();
  auto pinned = PinPostgresServer(Local("nowhere.invalid", 5432), milliseconds(10000));
  ASSERT_FALSE(pinned);
  EXPECT_THAT(pinned.error().message, StartsWith("cannot resolve host \"nowhere.invalid\": "));
  EXPECT_LT(Elapsed(start), std::chrono::seconds(5));
}

TEST(PinPostgresServerTest, RefusesSeveralHosts) {
  auto pinned = PinPostgresServer(Local("127.0.0.1,127.0.0.2", 5432), milliseconds(1000));
  ASSERT_FALSE(pinned);
  EXPECT_EQ(pinned.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(pinned.error().message, HasSubstr("several PostgreSQL hosts"));
}

// localhost is ::1 before 127.0.0.1 here; the server listens on the second only.
TEST(PinPostgresServerTest, PinsTheAddressThatAnswers) {
  FakePostgres server({Accepted()});
  const std::string conninfo = Local("localhost", server.port());
  auto pinned = PinPostgresServer(conninfo, milliseconds(10000));
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_THAT(*pinned, StartsWith(conninfo));
  EXPECT_THAT(*pinned, EndsWith(" hostaddr='127.0.0.1'"));
  EXPECT_EQ(server.connections(), 1);
}

TEST(PinPostgresServerTest, ReportsARefusalForGoodAtOnceWithTheServersReason) {
  FakePostgres server({Refused("28000", "role \"nobody\" does not exist")});
  const auto start = std::chrono::steady_clock::now();
  auto pinned = PinPostgresServer(Local("127.0.0.1", server.port()), milliseconds(10000));
  ASSERT_FALSE(pinned);
  EXPECT_LT(Elapsed(start), std::chrono::seconds(3));
  EXPECT_EQ(pinned.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(pinned.error().message, HasSubstr("FATAL:  role \"nobody\" does not exist"));
  EXPECT_THAT(pinned.error().message, Not(HasSubstr("28000")));
  EXPECT_THAT(pinned.error().message, Not(HasSubstr("\n")));
  EXPECT_EQ(server.connections(), 1);
}

TEST(PinPostgresServerTest, WaitsForAServerThatIsStartingUp) {
  const std::string starting = Refused("57P03", "the database system is starting up");
  FakePostgres server({starting, starting, Accepted()});
  auto pinned = PinPostgresServer(Local("127.0.0.1", server.port()), milliseconds(10000));
  ASSERT_TRUE(pinned) << pinned.error().message;
  EXPECT_EQ(server.connections(), 3);
}

TEST(PinPostgresServerTest, NothingListeningIsUnavailableAfterTheWaitWithTheReason) {
  const auto start = std::chrono::steady_clock::now();
  auto pinned = PinPostgresServer(Local("127.0.0.1", UnusedLoopbackPort()), milliseconds(600));
  ASSERT_FALSE(pinned);
  EXPECT_GE(Elapsed(start), milliseconds(250)) << "gave up at the first refusal";
  EXPECT_LT(Elapsed(start), std::chrono::seconds(3));
  EXPECT_EQ(pinned.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(pinned.error().message, StartsWith("no connection within 0.6 s: "));
  EXPECT_THAT(pinned.error().message, HasSubstr("Connection refused"));
}

// The PostgreSQL server that scripts/with-postgres starts listens on 127.0.0.1 only.
class RealPostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("ARGUS_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_SKIP() << "ARGUS_TEST_POSTGRES_URL is unset (scripts/with-postgres sets it)";
    }
    // postgresql://postgres@127.0.0.1:PORT/postgres
    const std::string text = url;
    const std::size_t colon = text.rfind(':');
    port_ = std::atoi(text.c_str() + colon + 1);
    ASSERT_GT(port_, 0) << text;
  }

  int port_ = 0;
};

TEST_F(RealPostgresTest, AClientForLocalhostRunsStatements) {
  auto db = OpenPostgresClient(
      "host=localhost port=" + std::to_string(port_) + " user=postgres dbname=postgres", 2,
      milliseconds(10000));
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->execSqlSync("SELECT 40 + 2")[0][0].as<int>(), 42);
  ReleaseDbClient(std::move(*db));
}

TEST_F(RealPostgresTest, UnknownRolesAndDatabasesAreRefusedAtOnce) {
  const std::string server = "host=localhost port=" + std::to_string(port_);
  const auto start = std::chrono::steady_clock::now();
  auto role = PinPostgresServer(server + " user=nobody dbname=postgres", milliseconds(10000));
  ASSERT_FALSE(role);
  EXPECT_EQ(role.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(role.error().message, EndsWith("FATAL:  role \"nobody\" does not exist"));
  auto database = PinPostgresServer(server + " user=postgres dbname=nodb", milliseconds(10000));
  ASSERT_FALSE(database);
  EXPECT_EQ(database.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(database.error().message, EndsWith("FATAL:  database \"nodb\" does not exist"));
  EXPECT_LT(Elapsed(start), std::chrono::seconds(3));
}

// The test server has no TLS: asking for it is a refusal for good, not a wait.
TEST_F(RealPostgresTest, AnSslModeTheServerCannotMeetIsRefusedAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  auto pinned = PinPostgresServer("host=127.0.0.1 port=" + std::to_string(port_) +
                                      " user=postgres dbname=postgres sslmode=require",
                                  milliseconds(10000));
  ASSERT_FALSE(pinned);
  EXPECT_EQ(pinned.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(pinned.error().message, HasSubstr("server does not support SSL"));
  EXPECT_LT(Elapsed(start), std::chrono::seconds(3));
}

}  // namespace
}  // namespace argus::db
