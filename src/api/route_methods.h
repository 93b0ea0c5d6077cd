#pragma once

#include <drogon/HttpRequest.h>
#include <drogon/HttpTypes.h>

#include <optional>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

namespace argus::api {

// The methods each route of the HTTP API accepts, for the Allow header of the answers to
// OPTIONS and to a method a route does not accept. Drogon 1.9.0's router knows them but
// tells no one: a path without placeholders and a method it has no handler for get 405
// (403 for OPTIONS) through the custom error handler, which is told the status alone, and
// a path with placeholders gets 404, as the router only tries the routes that have a
// handler for the request's method.
class RouteMethods {
 public:
  struct Route {
    std::string pattern;  // as registered: "/api/v1/images/{id}"
    std::string allow;    // "GET, HEAD, DELETE, OPTIONS"
    // Of GET, POST, PUT, DELETE and PATCH, those the route has no handler for.
    std::vector<drogon::HttpMethod> refused;
    // How Drogon's router matches it: case-insensitively, a pattern without placeholders
    // as a whole string (`lowered`), one with them by the expression it turns into.
    std::string lowered;
    std::optional<std::regex> matcher;
  };

  // `handlers` as drogon::app().getHandlersInfo() lists them once every route is
  // registered: (path pattern, method, description), the routes with placeholders in the
  // order of registration.
  explicit RouteMethods(
      const std::vector<std::tuple<std::string, drogon::HttpMethod, std::string>>& handlers);

  const std::vector<Route>& routes() const { return routes_; }

  // The route Drogon's router takes `path` to whatever the method; nullptr when there is none.
  const Route* RouteForPath(const std::string& path) const;

 private:
  std::vector<Route> routes_;
};

// Answers a method a route does not accept with 405 and the route's Allow header (a
// handler of its own for each such method and route: with two patterns matching one path,
// the first one's could stand in front of the other's handler, and the API has none), and
// OPTIONS on every route with 204 and that header (a pre-routing advice: Drogon answers
// OPTIONS on a route that has a handler for it as a CORS preflight allowing any origin, a
// policy the service does not have). Call once every route is registered.
void AnswerWithAllowedMethods();

// An API path with an empty segment or a trailing slash, which no route of the API has:
// Drogon gives a route's {id} an empty segment too (POST /api/v1/images/ was refused as a
// method the path of one image does not take, GET /api/v1/images/ as "no image ").
bool IsMalformedApiPath(std::string_view path);

// How an answered request is counted and logged: the route pattern it went to, or would
// have gone to when an advice answered it before routing (OPTIONS, a body over the limit),
// "unmatched" for none; and its method as sent (HEAD, which Drogon hands to the GET handler
// as a GET).
std::string RouteLabel(const drogon::HttpRequestPtr& request);
std::string MethodLabel(const drogon::HttpRequestPtr& request);

}  // namespace argus::api
