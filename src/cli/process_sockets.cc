#include "cli/process_sockets.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

namespace argus::cli {

bool IsOnPort(int fd, std::uint16_t port, SocketRole role) {
  struct stat status{};
  if (fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode)) return false;
  int listening = 0;
  socklen_t length = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 ||
      (listening != 0) != (role == SocketRole::kListening)) {
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

}  // namespace argus::cli
