#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::cli {

// "0.0.0.0:8080", "[::1]:8080".
std::string HostAndPort(const std::string& host, int port);

// Drogon exits the process when it cannot bind; check first to fail with a clear message,
// which names `host_option` when the host is not an address. Drogon listens on IPv6 when
// the address has a colon, as here.
Result<void> CheckPortFree(std::string_view host_option, const std::string& host, int port);

}  // namespace argus::cli
