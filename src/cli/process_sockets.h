#pragma once

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace argus::cli {

// This process's own TCP sockets, found among its file descriptors: Drogon hands out neither
// its listening sockets nor its connections.

enum class SocketRole : std::uint8_t { kListening, kConnected };

// Whether `fd` is a TCP socket of this process on local `port`, in that role.
bool IsOnPort(int fd, std::uint16_t port, SocketRole role);

// Calls `on_fd(fd)` for each open file descriptor of this process; false when they cannot be
// listed.
template <typename OnFd>
bool ForEachFd(const OnFd& on_fd) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    const std::string name = entry.path().filename().string();
    int fd = -1;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    on_fd(fd);
  }
  return !error;
}

}  // namespace argus::cli
