#include "cli/connection_gate.h"

#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <string>

namespace argus::cli {
namespace {

bool IsListeningOn(int fd, std::uint16_t port) {
  struct stat status{};
  if (fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) return false;
  int listening = 0;
  socklen_t length = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening == 0) {
    return false;
  }
  sockaddr_storage address{};
  length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port) == port;
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port) == port;
  }
  return false;
}

}  // namespace

Result<int> ShutConnectionGate(std::uint16_t port) {
  sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  const sock_fprog program{.len = 1, .filter = drop_all};
  std::error_code error;
  int shut = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    const std::string name = entry.path().filename().string();
    int fd = -1;
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc()) continue;
    if (!IsListeningOn(fd, port)) continue;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
      return Fail(ErrorCode::kIo,
                  std::string("cannot stop the listening socket: ") + std::strerror(errno));
    }
    ++shut;
  }
  if (error) return Fail(ErrorCode::kIo, "cannot list /proc/self/fd: " + error.message());
  return shut;
}

}  // namespace argus::cli
