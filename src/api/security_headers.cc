#include "api/security_headers.h"

namespace argus::api {

void AddSecurityHeaders(const drogon::HttpRequestPtr& request,
                        const drogon::HttpResponsePtr& response) {
  if (request->path().starts_with("/api/") && response->getHeader("cache-control").empty()) {
    response->addHeader("Cache-Control", "no-store");
  }
  response->addHeader("X-Content-Type-Options", "nosniff");
  response->addHeader("X-Frame-Options", "DENY");
  response->addHeader("Referrer-Policy", "same-origin");
  response->addHeader("Content-Security-Policy",
                      "default-src 'self'; img-src * data: blob:; object-src 'none'; "
                      "base-uri 'self'; form-action 'self'; frame-ancestors 'none'");
}

}  // namespace argus::api
