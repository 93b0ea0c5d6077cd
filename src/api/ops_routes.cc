// Health, readiness, the OpenAPI document and the operators' status.
#include <drogon/drogon.h>

#include <format>

#include "api/http_errors.h"
#include "api/off_the_loop.h"
#include "api/route_methods.h"
#include "api/routes.h"

namespace argus::api {
namespace {

#include "api/openapi_json.inc"  // kOpenApiJson: src/api/openapi.json

Json::Value QueueJson(const queue::QueueStats& stats) {
  Json::Value queue(Json::objectValue);
  queue["ready"] = static_cast<Json::UInt64>(stats.ready);
  queue["in_flight"] = static_cast<Json::UInt64>(stats.in_flight);
  queue["dead"] = static_cast<Json::UInt64>(stats.dead);
  return queue;
}

// Ready when the queue and the catalog answer, the blob store takes writes, and not stopping.
void Readiness(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& /*request*/,
               Callback&& callback) {
  if (context->draining) {
    return callback(ErrorResponse(drogon::k503ServiceUnavailable, "shutting_down",
                                  "the server is shutting down"));
  }
  // Anyone may ask: the answer names the store and the reason, not the server's paths or URLs
  // that the stores' messages hold.
  const auto not_ready = [&callback](std::string_view code, std::string_view store,
                                     const Error& error) {
    const std::size_t last = error.message.rfind(": ");
    const std::string reason =
        last == std::string::npos ? error.message : error.message.substr(last + 2);
    callback(ErrorResponse(drogon::k503ServiceUnavailable, std::string(code),
                           std::format("{}: {}", store, reason)));
  };
  if (drogon::HttpResponsePtr gone = context->StoreFileGone()) return callback(gone);
  auto stats = context->queue.Stats();
  if (!stats) return not_ready("queue_unavailable", "the queue does not answer", stats.error());
  auto counts = context->catalog.CountByStatus();
  if (!counts) {
    return not_ready("catalog_unavailable", "the catalog does not answer", counts.error());
  }
  if (auto writable = context->blob_writes.Check(); !writable) {
    return not_ready("blob_store_unavailable",
                     writable.error().code == ErrorCode::kNoSpace
                         ? "the blob store's disk has no room"
                         : "the blob store refuses writes",
                     writable.error());
  }
  Json::Value body(Json::objectValue);
  body["status"] = "ready";
  callback(HttpResponse::newHttpJsonResponse(body));
}

void OpsStatus(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
               Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  if (!principal->user.is_admin) {
    return callback(ErrorResponse(drogon::k403Forbidden, "forbidden",
                                  "the operations status is for administrators"));
  }
  auto stats = context->queue.Stats();
  if (!stats) return callback(ErrorResponse(stats.error()));
  auto counts = context->catalog.CountByStatus();
  if (!counts) return callback(ErrorResponse(counts.error()));
  Json::Value body(Json::objectValue);
  body["queue"] = QueueJson(*stats);
  body["images"]["queued"] = static_cast<Json::Int64>(counts->queued);
  body["images"]["processing"] = static_cast<Json::Int64>(counts->processing);
  body["images"]["done"] = static_cast<Json::Int64>(counts->done);
  body["images"]["failed"] = static_cast<Json::Int64>(counts->failed);
  if (context->scaler_status) body["scaler"] = context->scaler_status();
  if (context->options.durability_applies) {
    body["durability"] = std::string(DurabilityName(context->options.upload_durability));
  }
  callback(HttpResponse::newHttpJsonResponse(body));
}

}  // namespace

void RegisterHealthAndMetricsRoutes(const Metrics& metrics) {
  auto& app = drogon::app();
  app.registerHandler("/healthz",
                      [](const HttpRequestPtr&, Callback&& callback) {
                        Json::Value body(Json::objectValue);
                        body["status"] = "ok";
                        callback(HttpResponse::newHttpJsonResponse(body));
                      },
                      {drogon::Get});
  app.registerHandler("/metrics",
                      [&metrics](const HttpRequestPtr&, Callback&& callback) {
                        auto response = HttpResponse::newHttpResponse();
                        response->setContentTypeString("text/plain; version=0.0.4; charset=utf-8");
                        response->setBody(metrics.Render());
                        callback(response);
                      },
                      {drogon::Get});
}

void RegisterOpsRoutes(const std::shared_ptr<ApiContext>& context) {
  auto& app = drogon::app();
  RegisterHealthAndMetricsRoutes(context->metrics);
  app.registerHandler("/readyz", OffTheLoop(context, Readiness), {drogon::Get});
  app.registerHandler("/api/openapi.json",
                      [](const HttpRequestPtr&, Callback&& callback) {
                        auto response = HttpResponse::newHttpResponse();
                        response->setContentTypeCode(drogon::CT_APPLICATION_JSON);
                        response->setBody(std::string(kOpenApiJson));
                        callback(response);
                      },
                      {drogon::Get});
  app.registerHandler("/api/v1/ops/status", OffTheLoop(context, OpsStatus), {drogon::Get});
}

void RegisterRoutes(const std::shared_ptr<ApiContext>& context) {
  RegisterAuthRoutes(context);
  RegisterUploadRoutes(context);
  RegisterImageRoutes(context);
  RegisterEventRoutes(context);
  RegisterOpsRoutes(context);
  RegisterWebRoutes(context);
  AnswerWithAllowedMethods();
}

}  // namespace argus::api
