#include "api/security_headers.h"

namespace argus::api {

void AddSecurityHeaders(const drogon::HttpResponsePtr& response) {
  response->addHeader("X-Content-Type-Options", "nosniff");
  response->addHeader("X-Frame-Options", "DENY");
  response->addHeader("Referrer-Policy", "same-origin");
  response->addHeader("Content-Security-Policy",
                      "default-src 'self'; img-src * data: blob:; object-src 'none'; "
                      "base-uri 'self'; form-action 'self'; frame-ancestors 'none'");
}

}  // namespace argus::api
