#include "cli/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <format>

namespace argus::cli {

std::string HostAndPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<void> CheckPortFree(std::string_view host_option, const std::string& host, int port) {
  sockaddr_in v4{.sin_family = AF_INET, .sin_port = htons(static_cast<std::uint16_t>(port))};
  sockaddr_in6 v6{.sin6_family = AF_INET6, .sin6_port = htons(static_cast<std::uint16_t>(port))};
  const bool ipv6 = host.find(':') != std::string::npos;
  if (ipv6 ? inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) != 1
           : inet_pton(AF_INET, host.c_str(), &v4.sin_addr) != 1) {
    return Fail(
        ErrorCode::kInvalidArgument,
        std::format("{} must be an IPv4 or IPv6 address (0.0.0.0, ::), got {}", host_option, host));
  }
  const int probe = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return Fail(ErrorCode::kIo, std::strerror(errno));
  const int yes = 1;
  setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  const bool bound = ipv6 ? bind(probe, reinterpret_cast<sockaddr*>(&v6), sizeof v6) == 0
                          : bind(probe, reinterpret_cast<sockaddr*>(&v4), sizeof v4) == 0;
  const std::string reason = std::strerror(errno);
  close(probe);
  if (!bound) {
    return Fail(ErrorCode::kUnavailable,
                "cannot listen on " + HostAndPort(host, port) + ": " + reason);
  }
  return {};
}

}  // namespace argus::cli
