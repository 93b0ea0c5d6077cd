#pragma once

#include <drogon/HttpResponse.h>

namespace argus::api {

// Headers every answer carries, so that a browser neither sniffs a stored photo into a
// page nor lets another site frame the app: nosniff, no framing, same-origin referrers, and
// a content security policy that allows the app's own scripts, styles and API only (images
// also from elsewhere: presigned downloads redirect to the blob store).
void AddSecurityHeaders(const drogon::HttpResponsePtr& response);

}  // namespace argus::api
