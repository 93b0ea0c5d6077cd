#include "events/unix_socket_event_bus.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "common/log.h"

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

// The inode a socket was bound to at `path`; 0 when there is none.
ino_t BoundInode(const std::filesystem::path& path) {
  struct stat status{};
  return ::stat(path.c_str(), &status) == 0 && S_ISSOCK(status.st_mode) ? status.st_ino : 0;
}

// A socket bound to `path` (whatever was there removed), or -1 with errno set.
int BindReceiver(const sockaddr_un& address, const std::filesystem::path& path) {
  const int receiver = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (receiver < 0) return -1;
  std::error_code ignored;
  std::filesystem::remove(path, ignored);  // left behind by a process that was killed
  if (bind(receiver, reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0) {
    const int error = errno;
    close(receiver);
    errno = error;
    return -1;
  }
  // Bursts of results arrive faster than one thread may drain them for a moment.
  const int buffer_bytes = 4 * 1024 * 1024;
  setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
  return receiver;
}

// How often the subscriber checks that its socket file is still there.
constexpr std::chrono::seconds kSocketCheckInterval{1};

class SocketSubscription : public Subscription {
 public:
  SocketSubscription(int socket, int lock, const sockaddr_un& address, std::filesystem::path path,
                     std::function<void(std::string_view)> handler)
      : socket_(socket), lock_(lock), address_(address), path_(std::move(path)) {
    thread_ = std::jthread([this, handler = std::move(handler)](const std::stop_token& stop) {
      std::vector<char> buffer(kMaxEventBytes);
      ino_t bound = BoundInode(path_);
      auto checked = std::chrono::steady_clock::now();
      while (!stop.stop_requested()) {
        if (std::chrono::steady_clock::now() - checked >= kSocketCheckInterval) {
          checked = std::chrono::steady_clock::now();
          bound = ListenAgainIfRemoved(bound);
        }
        pollfd descriptor{.fd = socket_, .events = POLLIN, .revents = 0};
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
  // A socket file removed under the running service (a clean-up of the data directory) left
  // the workers' events with nowhere to go: every POST / waited for the once-a-second catalog
  // check. The subscriber, which holds the lock, binds the path again. Returns the inode now
  // bound.
  ino_t ListenAgainIfRemoved(ino_t bound) {
    if (bound != 0 && BoundInode(path_) == bound) return bound;
    const int receiver = BindReceiver(address_, path_);
    if (receiver < 0) return bound;  // tried again at the next check
    LogLine("warning", "events",
            "the event socket " + path_.string() + " was removed; listening on it again");
    close(socket_);
    socket_ = receiver;
    return BoundInode(path_);
  }

  int socket_;
  int lock_;
  sockaddr_un address_;
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
  const int receiver = BindReceiver(*address, path_);
  if (receiver < 0) {
    const std::string reason = std::strerror(errno);
    close(lock);
    return Fail(ErrorCode::kIo, "cannot listen for events on " + path_.string() + ": " + reason);
  }
  return std::make_unique<SocketSubscription>(receiver, lock, *address, path_, std::move(handler));
}

Result<std::unique_ptr<Subscription>> UnixSocketEventBus::SubscribeInGroup(
    const std::string& /*group*/, std::function<void(std::string_view)> /*handler*/) {
  return Fail(ErrorCode::kInvalidArgument,
              "a Unix-socket event bus has one subscriber, which hears each event once");
}

}  // namespace argus::events
