#include "events/nats_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <format>
#include <fstream>
#include <thread>
#include <vector>

extern char** environ;

namespace argus::nats {
namespace {

// Debian installs it in /usr/sbin.
constexpr const char* kServerPaths[] = {"/usr/sbin/nats-server", "/usr/bin/nats-server",
                                        "/usr/local/bin/nats-server"};
// JetStream is usually ready within 0.1 s; a loaded machine gets much longer.
constexpr std::chrono::seconds kStartLimit{20};
constexpr int kStartAttempts = 3;

// The last line of the server's log, which says why it stopped.
std::string LastLine(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

// Whether the monitoring endpoint reports JetStream ready.
bool JetStreamReady(int monitor_port) {
  const std::string command = std::format(
      "curl -sf -o /dev/null 'http://127.0.0.1:{}/healthz?js-enabled-only=true' 2>/dev/null",
      monitor_port);
  FILE* pipe = ::popen(command.c_str(), "r");
  return pipe != nullptr && ::pclose(pipe) == 0;
}

}  // namespace

Result<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  const bool found = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  const std::string reason = std::strerror(errno);
  ::close(fd);
  if (!found) return Fail(ErrorCode::kIo, "cannot find a free port: " + reason);
  return ntohs(address.sin_port);
}

Result<std::unique_ptr<TestServer>> TestServer::Start(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir / "store", error);
  if (error) return Fail(ErrorCode::kIo, "cannot create " + dir.string() + ": " + error.message());
  // A port found free may be taken before the server binds it (by a client's outgoing
  // connection, say): then the server exits, and another pair of ports is tried.
  Error failure{ErrorCode::kUnavailable, ""};
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto port = FreePort();
    if (!port) return std::unexpected(port.error());
    auto monitor_port = FreePort();
    if (!monitor_port) return std::unexpected(monitor_port.error());
    std::unique_ptr<TestServer> server(new TestServer(dir, *port, *monitor_port));
    auto launched = server->Launch();
    if (launched) return server;
    failure = std::move(launched.error());
  }
  return std::unexpected(failure);
}

TestServer::~TestServer() { Stop(SIGTERM); }

std::string TestServer::url() const { return std::format("nats://127.0.0.1:{}", port_); }

void TestServer::Stop(int signal) {
  if (pid_ < 0) return;
  ::kill(pid_, signal);
  ::kill(pid_, SIGCONT);  // a paused server takes the signal once it runs
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void TestServer::Pause() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGSTOP);
  // The signal is delivered a moment later; the server answered in that moment.
  int status = 0;
  while (::waitpid(pid_, &status, WUNTRACED) < 0 && errno == EINTR) {
  }
}

void TestServer::Resume() {
  if (pid_ >= 0) ::kill(pid_, SIGCONT);
}

Result<void> TestServer::Launch() {
  const auto* server = std::ranges::find_if(
      kServerPaths, [](const char* path) { return ::access(path, X_OK) == 0; });
  if (server == std::ranges::end(kServerPaths)) {
    return Fail(ErrorCode::kUnavailable, "nats-server is not installed (package nats-server)");
  }
  const std::string port = std::to_string(port_);
  const std::string monitor_port = std::to_string(monitor_port_);
  const std::string store = (dir_ / "store").string();
  const std::string log = (dir_ / "nats-server.log").string();
  std::vector<const char*> argv = {*server, "-a",        "127.0.0.1",   "-p", port.c_str(),
                                   "-js",   "-sd",       store.c_str(), "-m", monitor_port.c_str(),
                                   "-l",    log.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const int spawned = ::posix_spawn(&pid_, *server, &actions, nullptr,
                                    const_cast<char* const*>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    pid_ = -1;
    return Fail(ErrorCode::kUnavailable,
                std::format("cannot start {}: {}", *server, std::strerror(spawned)));
  }
  const auto deadline = std::chrono::steady_clock::now() + kStartLimit;
  while (!JetStreamReady(monitor_port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Fail(
          ErrorCode::kUnavailable,
          std::format("nats-server exited at start (status {}): {}", status, LastLine(log)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      Stop(SIGKILL);
      return Fail(ErrorCode::kUnavailable,
                  std::format("nats-server did not get JetStream ready within {} s; see {}",
                              kStartLimit.count(), log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

}  // namespace argus::nats
