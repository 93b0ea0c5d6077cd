#include "queue/wake_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <format>
#include <random>
#include <system_error>

namespace argus::queue {
namespace {

// false when `path` does not fit a socket address.
bool ToAddress(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

WakeChannel::WakeChannel(std::filesystem::path folder) : folder_(std::move(folder)) {}

WakeChannel::~WakeChannel() {
  if (listener_ >= 0) {
    ::close(listener_);
    ::unlink(listener_path_.c_str());
  }
  if (sender_ >= 0) ::close(sender_);
}

bool WakeChannel::Listen() {
  std::lock_guard lock(mutex_);
  if (listener_ >= 0) return true;
  if (listen_failed_) return false;
  std::error_code error;
  std::filesystem::create_directories(folder_, error);
  std::random_device random;
  const std::string path = (folder_ / std::format("{}.{:08x}", ::getpid(), random())).string();
  sockaddr_un address{};
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (error || !ToAddress(path, address) || fd < 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    listen_failed_ = true;
    return false;
  }
  listener_ = fd;
  listener_path_ = path;
  return true;
}

void WakeChannel::Wait(std::chrono::milliseconds timeout) {
  pollfd readable{.fd = listener_, .events = POLLIN, .revents = 0};
  if (::poll(&readable, 1, static_cast<int>(timeout.count())) <= 0) return;
  char byte = 0;
  while (::recv(listener_, &byte, 1, MSG_DONTWAIT) >= 0) {
  }
}

void WakeChannel::Notify() {
  int sender = -1;
  {
    std::lock_guard lock(mutex_);
    if (sender_ < 0) sender_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sender = sender_;
  }
  if (sender < 0) return;
  std::error_code error;
  for (std::filesystem::directory_iterator it(folder_, error), end; !error && it != end;
       it.increment(error)) {
    const std::string path = it->path().string();
    sockaddr_un address{};
    if (!ToAddress(path, address)) continue;
    const char byte = 1;
    if (::sendto(sender, &byte, 1, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&address),
                 sizeof address) < 0 &&
        errno == ECONNREFUSED) {
      ::unlink(path.c_str());  // its process is gone
    }
  }
}

}  // namespace argus::queue
