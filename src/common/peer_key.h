#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace argus {

// A key naming a socket address (family, port and address bytes): the same for the peer
// address Drogon gives a request and the one getpeername() gives its connection's socket.
inline std::string PeerKey(const sockaddr* address) {
  std::string key(1, static_cast<char>(address->sa_family));
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    key.append(reinterpret_cast<const char*>(&in->sin_port), sizeof in->sin_port);
    key.append(reinterpret_cast<const char*>(&in->sin_addr), sizeof in->sin_addr);
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    key.append(reinterpret_cast<const char*>(&in6->sin6_port), sizeof in6->sin6_port);
    key.append(reinterpret_cast<const char*>(&in6->sin6_addr), sizeof in6->sin6_addr);
  }
  return key;
}

}  // namespace argus
