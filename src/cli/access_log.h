#pragma once

#include <functional>
#include <string>

#include "api/trusted_proxies.h"

namespace argus::cli {

using ObserveRequest = std::function<void(const std::string& route, const std::string& method,
                                          int status, double seconds)>;

// Has the HTTP framework give each request its id (api::RequestIdOf) first, answer it in
// X-Request-Id, and log each request once as a JSON line of component "http": method, path,
// route, status, duration, peer, request id and, with `proxies` not empty, the client address
// they forwarded. `observe`, when given, also gets each request. Call before registering other
// pre-routing advices, and once: `proxies` must outlive the framework's run.
void LogEveryRequest(const api::TrustedProxies& proxies, ObserveRequest observe = {});

}  // namespace argus::cli
