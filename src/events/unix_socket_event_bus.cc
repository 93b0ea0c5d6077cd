#include "events/unix_socket_event_bus.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

namespace argus::events {
namespace {

constexpr std::size_t kMaxEventBytes = std::size_t{64} * 1024;

Result<sockaddr_un> AddressOf(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path)) {
    return Fail(ErrorCode::kInvalidArgument, "event socket path too long (max 107 bytes): " + text);
  }
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  return address;
}

// The one subscriber holds an exclusive lock on this file beside the socket while it listens,
// so that a second one (a second `argus serve` on the same data directory) is refused instead
// of taking the socket over: the first one's workers' events then went to the second, and to
// nobody once it had stopped and removed the socket.
std::filesystem::path LockPathOf(const std::filesystem::path& socket_path) {
  return socket_path.string() + ".lock";
}

class SocketSubscription : public Subscription {
 public:
  SocketSubscription(int socket, int lock, std::filesystem::path path,
                     std::function<void(std::string_view)> handler)
      : socket_(socket), lock_(lock), path_(std::move(path)) {
    thread_ = std::jthread([this, handler = std::move(handler)](const std::stop_token& stop) {
      std::vector<char> buffer(kMaxEventBytes);
      pollfd descriptor{.fd = socket_, .events = POLLIN, .revents = 0};
      while (!stop.stop_requested()) {
        if (poll(&descriptor, 1, 100) <= 0) continue;
        const ssize_t size = recv(socket_, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (size > 0) handler(std::string_view(buffer.data(), static_cast<std::size_t>(size)));
      }
    });
  }
  ~SocketSubscription() override {
    thread_.request_stop();
    thread_.join();
    close(socket_);
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
    close(lock_);
  }

 private:
  int socket_;
  int lock_;
  std::filesystem::path path_;
  std::jthread thread_;
};

}  // namespace

UnixSocketEventBus::UnixSocketEventBus(std::filesystem::path path)
    : path_(std::move(path)), send_socket_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
  // A burst may fill the subscriber's queue for a moment; wait that long rather than drop.
  const timeval send_timeout{.tv_sec = 0, .tv_usec = 200'000};
  if (send_socket_ >= 0) {
    setsockopt(send_socket_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  }
}

UnixSocketEventBus::~UnixSocketEventBus() {
  if (send_socket_ >= 0) close(send_socket_);
}

Result<void> UnixSocketEventBus::Publish(std::string_view payload) {
  if (payload.size() > kMaxEventBytes) {
    return Fail(ErrorCode::kInvalidArgument, "event larger than 64 KiB");
  }
  auto address = AddressOf(path_);
  if (!address) return std::unexpected(address.error());
  if (send_socket_ < 0) return Fail(ErrorCode::kIo, "cannot create the event socket");
  if (sendto(send_socket_, payload.data(), payload.size(), 0,
             reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) < 0) {
    // No subscriber (ENOENT, ECONNREFUSED) or one too slow for the send timeout (EAGAIN):
    // the event is dropped, as the interface allows.
    if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN) {
      return Fail(ErrorCode::kIo,
                  "cannot send event to " + path_.string() + ": " + std::strerror(errno));
    }
  }
  return {};
}

Result<std::unique_ptr<Subscription>> UnixSocketEventBus::Subscribe(
    std::function<void(std::string_view)> handler) {
  auto address = AddressOf(path_);
  if (!address) return std::unexpected(address.error());
  const std::filesystem::path lock_path = LockPathOf(path_);
  const int lock = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0) {
    return Fail(ErrorCode::kIo, "cannot open " + lock_path.string() + ": " + std::strerror(errno));
  }
  if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
    const bool taken = errno == EWOULDBLOCK;
    const std::string reason = std::strerror(errno);
    close(lock);
    if (taken) {
      return Fail(ErrorCode::kConflict, "another process already listens for events on " +
                                            path_.string() +
                                            " (an argus serve or web on the same data directory?)");
    }
    return Fail(ErrorCode::kIo, "cannot lock " + lock_path.string() + ": " + reason);
  }
  const int receiver = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (receiver < 0) {
    close(lock);
    return Fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  }
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);  // left behind by a process that was killed
  if (bind(receiver, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) < 0) {
    const std::string reason = std::strerror(errno);
    close(receiver);
    close(lock);
    return Fail(ErrorCode::kIo, "cannot listen for events on " + path_.string() + ": " + reason);
  }
  // Bursts of results arrive faster than one thread may drain them for a moment.
  const int buffer_bytes = 4 * 1024 * 1024;
  setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  return std::make_unique<SocketSubscription>(receiver, lock, path_, std::move(handler));
}

Result<std::unique_ptr<Subscription>> UnixSocketEventBus::SubscribeInGroup(
    const std::string& /*group*/, std::function<void(std::string_view)> /*handler*/) {
  return Fail(ErrorCode::kInvalidArgument,
              "a Unix-socket event bus has one subscriber, which hears each event once");
}

}  // namespace argus::events
