#pragma once

#include <drogon/HttpResponse.h>
#include <json/value.h>

#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::api {

// {"error":{"code":CODE,"message":MESSAGE}} with the given status.
drogon::HttpResponsePtr ErrorResponse(drogon::HttpStatusCode status, std::string_view code,
                                      std::string_view message);

// Maps an expected failure onto its HTTP status: invalid or corrupt → 400, not found → 404,
// conflict → 409, too large → 413, unsupported media → 415, unavailable → 503 (with
// Retry-After), anything else → 500.
drogon::HttpResponsePtr ErrorResponse(const Error& error);
// The same, with `members` (an object) beside "error" in the body.
drogon::HttpResponsePtr ErrorResponse(const Error& error, const Json::Value& members);

// 405 `http_405` for a method the path does not accept, with the Allow header `allow`
// listing those it does.
drogon::HttpResponsePtr MethodNotAllowedResponse(const std::string& allow);

// Has the HTTP framework answer an unknown path and the errors it meets itself (413 for a
// body over its limit, 400 for a request it cannot parse) with the JSON error, not its HTML
// pages.
void AnswerFrameworkErrorsAsJson();

// 204 No Content.
drogon::HttpResponsePtr NoContentResponse();

}  // namespace argus::api
