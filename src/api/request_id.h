#pragma once

#include <drogon/HttpRequest.h>

#include <string>

namespace argus::api {

// The request's id, given on its first call and kept on the request: the client's
// X-Request-Id when it is 1 to 128 characters of [A-Za-z0-9._:-] (a load balancer's, so that
// a request can be followed through both logs), else one made here (16 hex digits). The
// answer carries it in X-Request-Id, its access line and the lines logged while it is handled
// in "request_id".
std::string RequestIdOf(const drogon::HttpRequestPtr& request);

}  // namespace argus::api
