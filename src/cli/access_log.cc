#include "cli/access_log.h"

#include <drogon/drogon.h>
#include <json/json.h>

#include <string_view>
#include <utility>

#include "api/api_context.h"
#include "api/request_id.h"
#include "api/route_methods.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

namespace argus::cli {
namespace {

constexpr std::string_view kLoggedAttribute = "argus.logged";

}  // namespace

void LogEveryRequest(const api::TrustedProxies& proxies, ObserveRequest observe) {
  auto& app = drogon::app();
  // Given on the request's I/O thread, before any other thread reads it.
  app.registerPreRoutingAdvice(
      [](const drogon::HttpRequestPtr& request) { (void)api::RequestIdOf(request); });
  // After handling, as the handler answers: Drogon sends nothing, and calls no pre-sending
  // advice, once the client has hung up, and an upload it stored went unlogged. Before
  // sending for the rest: unknown routes, static files and the answers of advices.
  auto log = [&proxies, observe = std::move(observe)](const drogon::HttpRequestPtr& request,
                                                      const drogon::HttpResponsePtr& response) {
    const std::string key(kLoggedAttribute);
    if (request->attributes()->find(key)) return;
    request->attributes()->insert(key, true);
    const double seconds = static_cast<double>(trantor::Date::now().microSecondsSinceEpoch() -
                                               request->creationDate().microSecondsSinceEpoch()) /
                           1e6;
    const std::string route = api::RouteLabel(request);
    const std::string method = api::MethodLabel(request);
    const int status = static_cast<int>(response->statusCode());
    if (observe) observe(route, method, status, seconds);
    Json::Value line(Json::objectValue);
    line["time_ms"] = static_cast<Json::Int64>(NowMs());
    line["level"] = "info";
    line["component"] = "http";
    line["method"] = method;
    line["path"] = request->path();
    line["route"] = route;
    line["status"] = status;
    line["duration_ms"] = seconds * 1000.0;
    line["peer"] = request->peerAddr().toIp();
    line["request_id"] = api::RequestIdOf(request);
    if (!proxies.empty()) line["client"] = api::ClientAddress(proxies, request);
    WriteLogLine(WriteJson(line));
  };
  app.registerPostHandlingAdvice(log);
  app.registerPreSendingAdvice(
      [log](const drogon::HttpRequestPtr& request, const drogon::HttpResponsePtr& response) {
        response->addHeader("X-Request-Id", api::RequestIdOf(request));
        log(request, response);
      });
}

}  // namespace argus::cli
