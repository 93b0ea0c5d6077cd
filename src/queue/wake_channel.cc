#include "queue/wake_channel.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cassert>
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
  if (folder_watch_ >= 0) ::close(folder_watch_);
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

std::vector<std::string> WakeChannel::Wait(std::chrono::milliseconds timeout) {
  std::vector<std::string> texts;
  pollfd readable{.fd = listener_, .events = POLLIN, .revents = 0};
  if (::poll(&readable, 1, static_cast<int>(timeout.count())) <= 0) return texts;
  char text[kMaxTextSize];
  for (ssize_t size = 0; (size = ::recv(listener_, text, sizeof text, MSG_DONTWAIT)) >= 0;) {
    if (size > 0) texts.emplace_back(text, static_cast<std::size_t>(size));
  }
  return texts;
}

// True when the folder's entries are as at the last listing: the watch has reported no
// entry created, removed or renamed since. A watch just set up reports nothing yet, so
// the folder is listed then too.
bool WakeChannel::FolderUnchanged() {
  if (folder_watch_ < 0) folder_watch_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (folder_watch_ < 0) return false;
  if (!watching_) {
    watching_ = ::inotify_add_watch(folder_watch_, folder_.c_str(),
                                    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
                                        IN_DELETE_SELF | IN_MOVE_SELF) >= 0;
    return false;
  }
  bool unchanged = true;
  alignas(inotify_event) char events[4096];
  for (ssize_t size = 0; (size = ::read(folder_watch_, events, sizeof events)) > 0;) {
    unchanged = false;
    for (ssize_t at = 0; at < size;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events + at);
      // The folder itself was removed or moved: the watch has ended.
      if ((event->mask & IN_IGNORED) != 0) watching_ = false;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  return unchanged;
}

std::vector<std::string> WakeChannel::Listeners() {
  if (FolderUnchanged()) return listeners_;
  listeners_.clear();
  std::error_code error;
  for (std::filesystem::directory_iterator it(folder_, error), end; !error && it != end;
       it.increment(error)) {
    listeners_.push_back(it->path().string());
  }
  return listeners_;
}

void WakeChannel::Notify(std::string_view text) { Send(text, false); }

void WakeChannel::NotifyWithTextIfAlone(std::string_view text) { Send(text, true); }

void WakeChannel::Send(std::string_view text, bool text_only_if_alone) {
  assert(text.size() <= kMaxTextSize);
  int sender = -1;
  std::vector<std::string> listeners;
  {
    std::lock_guard lock(mutex_);
    if (sender_ < 0) sender_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sender = sender_;
    if (sender < 0) return;
    listeners = Listeners();
  }
  if (text_only_if_alone && listeners.size() != 1) text = {};
  for (const std::string& path : listeners) {
    sockaddr_un address{};
    if (!ToAddress(path, address)) continue;
    // A plain wake-up is an empty datagram.
    if (::sendto(sender, text.data(), text.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0 &&
        errno == ECONNREFUSED) {
      ::unlink(path.c_str());  // its process is gone (the watch reports the removal)
    }
  }
}

}  // namespace argus::queue
