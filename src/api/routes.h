#pragma once

#include <drogon/HttpRequest.h>
#include <drogon/HttpResponse.h>

#include <functional>
#include <memory>

#include "api/api_context.h"

namespace argus::api {

using drogon::HttpRequestPtr;
using drogon::HttpResponse;
using drogon::HttpResponsePtr;
using Callback = std::function<void(const HttpResponsePtr&)>;

// Registers every route of the HTTP API on drogon::app().
void RegisterRoutes(const std::shared_ptr<ApiContext>& context);

void RegisterAuthRoutes(const std::shared_ptr<ApiContext>& context);
void RegisterWebRoutes(const std::shared_ptr<ApiContext>& context);
void RegisterUploadRoutes(const std::shared_ptr<ApiContext>& context);
void RegisterImageRoutes(const std::shared_ptr<ApiContext>& context);
void RegisterEventRoutes(const std::shared_ptr<ApiContext>& context);
void RegisterOpsRoutes(const std::shared_ptr<ApiContext>& context);
// GET /healthz and GET /metrics: part of the ops routes, and all that `argus scaler` serves.
// `metrics` must outlive the HTTP server.
void RegisterHealthAndMetricsRoutes(const Metrics& metrics);

// Answers `callback` with the image once it is done or failed, or as it stands at
// `deadline`; kNotFound when `owner` has no such image.
void AwaitImage(const std::shared_ptr<ApiContext>& context, const std::string& owner,
                const std::string& id, EventHub::Clock::time_point deadline,
                std::function<void(Result<catalog::ImageRecord>)> callback);

}  // namespace argus::api
