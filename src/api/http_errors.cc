#include "api/http_errors.h"

#include <drogon/drogon.h>
#include <json/json.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/repeated_messages.h"

namespace argus::api {

namespace {

drogon::HttpResponsePtr ErrorResponseWith(drogon::HttpStatusCode status, std::string_view code,
                                          std::string_view message, Json::Value body) {
  body["error"]["code"] = std::string(code);
  body["error"]["message"] = std::string(message);
  auto response = drogon::HttpResponse::newHttpJsonResponse(body);
  response->setStatusCode(status);
  if (status == drogon::k503ServiceUnavailable || status == drogon::k429TooManyRequests) {
    response->addHeader("Retry-After", "1");
  }
  if (status == drogon::k401Unauthorized) {
    response->addHeader("WWW-Authenticate", "Bearer");
  }
  return response;
}

}  // namespace

drogon::HttpResponsePtr ErrorResponse(drogon::HttpStatusCode status, std::string_view code,
                                      std::string_view message) {
  return ErrorResponseWith(status, code, message, Json::Value(Json::objectValue));
}

drogon::HttpResponsePtr ErrorResponse(const Error& error, const Json::Value& members) {
  const drogon::HttpStatusCode status = [&] {
    switch (error.code) {
      case ErrorCode::kInvalidArgument:
      case ErrorCode::kCorrupt:
        return drogon::k400BadRequest;
      case ErrorCode::kNotFound:
        return drogon::k404NotFound;
      case ErrorCode::kTooLarge:
        return drogon::k413RequestEntityTooLarge;
      case ErrorCode::kUnsupportedMedia:
        return drogon::k415UnsupportedMediaType;
      case ErrorCode::kUnavailable:
        return drogon::k503ServiceUnavailable;
      case ErrorCode::kConflict:
        return drogon::k409Conflict;
      case ErrorCode::kNoSpace:
        return drogon::k507InsufficientStorage;
      case ErrorCode::kIo:
      case ErrorCode::kInternal:
        break;
    }
    return drogon::k500InternalServerError;
  }();
  // The details of a server-side failure name the server's own files, databases and
  // components: the operator needs them, the client does not.
  const std::string_view told_instead = [&]() -> std::string_view {
    switch (status) {
      case drogon::k507InsufficientStorage:
        return "the server has no space left to store this; try again later";
      case drogon::k503ServiceUnavailable:
        return "the service is busy or one of its stores is unreachable; retry shortly";
      case drogon::k500InternalServerError:
        return "the server failed to handle the request; its log has the details";
      default:
        return {};
    }
  }();
  if (!told_instead.empty()) {
    // While a store is down, every request meets the same failure.
    static RepeatedMessages repeated(std::chrono::seconds(10));
    if (const std::optional<std::uint64_t> held_back = repeated.Admit(error.message)) {
      LogLine("error", "web", WithCopiesHeldBack(error.message, *held_back));
    }
  }
  return ErrorResponseWith(status, ErrorCodeName(error.code),
                           told_instead.empty() ? error.message : told_instead, members);
}

drogon::HttpResponsePtr ErrorResponse(const Error& error) {
  return ErrorResponse(error, Json::Value(Json::objectValue));
}

drogon::HttpResponsePtr MethodNotAllowedResponse(const std::string& allow) {
  // The code Drogon's own 405 had (through the custom error handler) before these answers
  // were ours.
  auto response = ErrorResponse(drogon::k405MethodNotAllowed, "http_405",
                                "the path does not accept this method; Allow lists those it does");
  response->addHeader("Allow", allow);
  return response;
}

drogon::HttpResponsePtr NoContentResponse() {
  auto response = drogon::HttpResponse::newHttpResponse();
  response->setStatusCode(drogon::k204NoContent);
  response->setContentTypeCode(drogon::CT_NONE);  // no body, so no type of one
  return response;
}

void AnswerFrameworkErrorsAsJson() {
  drogon::app()
      .setCustom404Page(ErrorResponse(drogon::k404NotFound, "not_found", "no such route"))
      .setCustomErrorHandler([](drogon::HttpStatusCode status) {
        return ErrorResponse(status, "http_" + std::to_string(static_cast<int>(status)),
                             status == drogon::k413RequestEntityTooLarge
                                 ? "the request body is too large"
                                 : "the request could not be handled");
      });
}

}  // namespace argus::api
