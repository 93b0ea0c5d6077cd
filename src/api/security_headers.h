#pragma once

#include <drogon/HttpRequest.h>
#include <drogon/HttpResponse.h>

namespace argus::api {

// Headers every answer carries, so that a browser neither sniffs a stored photo into a
// page nor lets another site frame the app: nosniff, no framing, same-origin referrers, and
// a content security policy that allows the app's own scripts, styles and API only (images
// also from elsewhere: presigned downloads redirect to the blob store). An API answer that
// says nothing of caching is not stored (no-store): it may be an account's photos or a new
// token's secret.
void AddSecurityHeaders(const drogon::HttpRequestPtr& request,
                        const drogon::HttpResponsePtr& response);

}  // namespace argus::api
