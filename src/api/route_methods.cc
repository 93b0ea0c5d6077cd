#include "api/route_methods.h"

#include <drogon/drogon.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_errors.h"
#include "common/ascii.h"

namespace argus::api {
namespace {

// Drogon 1.9.0's HttpControllersRouter::addHttpPath: the pattern without its query part,
// each {placeholder} standing for one path segment. Routes whose patterns give the same
// expression are one route to it.
std::string PathExpression(const std::string& pattern) {
  static const std::regex kPlaceholder("\\{([^/]*)\\}");
  return std::regex_replace(pattern.substr(0, pattern.find('?')), kPlaceholder, "([^/]*)");
}

constexpr std::array<std::pair<drogon::HttpMethod, const char*>, 5> kMethods = {
    {{drogon::Get, "GET"},
     {drogon::Post, "POST"},
     {drogon::Put, "PUT"},
     {drogon::Delete, "DELETE"},
     {drogon::Patch, "PATCH"}}};

// The routes AnswerWithAllowedMethods listed, by which RouteLabel names the route of a
// request that an advice answered before routing (OPTIONS, a body over the limit).
std::atomic<std::shared_ptr<const RouteMethods>> listed_routes;

}  // namespace

RouteMethods::RouteMethods(
    const std::vector<std::tuple<std::string, drogon::HttpMethod, std::string>>& handlers) {
  std::vector<std::string> expressions;  // of routes_, by index
  std::vector<std::array<bool, drogon::Invalid>> accepted;
  for (const auto& [pattern, method, description] : handlers) {
    std::string expression = PathExpression(pattern);
    auto known = std::ranges::find(expressions, expression);
    if (known == expressions.end()) {
      const bool has_placeholders = expression != pattern.substr(0, pattern.find('?'));
      routes_.push_back(Route{.pattern = pattern, .lowered = AsciiLowercase(expression)});
      if (has_placeholders) routes_.back().matcher.emplace(expression, std::regex::icase);
      expressions.push_back(std::move(expression));
      accepted.emplace_back();
      known = std::prev(expressions.end());
    }
    if (method < drogon::Invalid) accepted[known - expressions.begin()][method] = true;
  }
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    Route& route = routes_[i];
    for (const auto& [method, name] : kMethods) {
      if (!accepted[i][method]) {
        route.refused.push_back(method);
        continue;
      }
      // Drogon answers HEAD with the GET handler.
      route.allow.append(name).append(method == drogon::Get ? ", HEAD, " : ", ");
    }
    route.allow += "OPTIONS";
  }
}

const RouteMethods::Route* RouteMethods::RouteForPath(const std::string& path) const {
  // Drogon's router looks the path up among the patterns without placeholders first, then
  // tries the others in the order of registration.
  const std::string lowered = AsciiLowercase(path);
  auto route = std::ranges::find_if(routes_, [&lowered](const Route& candidate) {
    return !candidate.matcher && candidate.lowered == lowered;
  });
  if (route == routes_.end()) {
    route = std::ranges::find_if(routes_, [&path](const Route& candidate) {
      return candidate.matcher && std::regex_match(path, *candidate.matcher);
    });
  }
  return route == routes_.end() ? nullptr : &*route;
}

void AnswerWithAllowedMethods() {
  auto& app = drogon::app();
  const auto methods = std::make_shared<const RouteMethods>(app.getHandlersInfo());
  listed_routes.store(methods);
  for (const RouteMethods::Route& route : methods->routes()) {
    if (route.refused.empty()) continue;
    app.registerHandler(
        route.pattern,
        [allow = route.allow](const drogon::HttpRequestPtr&,
                              std::function<void(const drogon::HttpResponsePtr&)>&& callback) {
          callback(MethodNotAllowedResponse(allow));
        },
        std::vector<drogon::internal::HttpConstraint>(route.refused.begin(), route.refused.end()));
  }
  app.registerPreRoutingAdvice([methods](const drogon::HttpRequestPtr& request,
                                         drogon::AdviceCallback&& respond,
                                         drogon::AdviceChainCallback&& next) {
    if (request->method() != drogon::Options || IsMalformedApiPath(request->path())) return next();
    const RouteMethods::Route* route = methods->RouteForPath(request->path());
    if (route == nullptr) return next();  // no such route: the router's 404
    auto response = NoContentResponse();
    response->addHeader("Allow", route->allow);
    respond(response);
  });
}

bool IsMalformedApiPath(std::string_view path) {
  return path.starts_with("/api/") && (path.ends_with('/') || path.contains("//"));
}

std::string RouteLabel(const drogon::HttpRequestPtr& request) {
  if (const std::string_view pattern = request->matchedPathPattern(); !pattern.empty()) {
    return std::string(pattern);
  }
  if (const auto routes = listed_routes.load(); routes && !IsMalformedApiPath(request->path())) {
    if (const RouteMethods::Route* route = routes->RouteForPath(request->path())) {
      return route->pattern;
    }
  }
  return "unmatched";
}

std::string MethodLabel(const drogon::HttpRequestPtr& request) {
  return request->isHead() ? "HEAD" : request->methodString();
}

}  // namespace argus::api
