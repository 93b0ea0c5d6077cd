#include "api/route_methods.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::api {
namespace {

using ::testing::ElementsAre;

// As drogon::app().getHandlersInfo() lists them: one entry per pattern and method.
RouteMethods SomeRoutes() {
  return RouteMethods({{"/api/v1/images/{id}", drogon::Get, "Handler: get"},
                       {"/api/v1/images/{id}", drogon::Delete, "Handler: delete"},
                       {"/api/v1/images/{id}/file", drogon::Get, "Handler: file"},
                       {"/api/v1/images", drogon::Get, "Handler: list"},
                       {"/api/v1/images", drogon::Post, "Handler: upload"},
                       {"/api/openapi.json", drogon::Get, "Handler: openapi"},
                       {"/classify", drogon::Post, "Handler: classify"}});
}

TEST(RouteMethodsTest, AMethodRegisteredApartJoinsItsRoute) {
  const RouteMethods methods = SomeRoutes();
  ASSERT_EQ(methods.routes().size(), 5u);
  const RouteMethods::Route& image = methods.routes()[0];
  EXPECT_EQ(image.pattern, "/api/v1/images/{id}");
  EXPECT_EQ(image.allow, "GET, HEAD, DELETE, OPTIONS") << "HEAD is answered as GET";
  EXPECT_THAT(image.refused, ElementsAre(drogon::Post, drogon::Put, drogon::Patch));
  const RouteMethods::Route& images = methods.routes()[2];
  EXPECT_EQ(images.pattern, "/api/v1/images");
  EXPECT_EQ(images.allow, "GET, HEAD, POST, OPTIONS");
  EXPECT_THAT(images.refused, ElementsAre(drogon::Put, drogon::Delete, drogon::Patch));
  EXPECT_EQ(methods.routes()[4].allow, "POST, OPTIONS");
  EXPECT_THAT(methods.routes()[4].refused,
              ElementsAre(drogon::Get, drogon::Put, drogon::Delete, drogon::Patch));
}

// The route's pattern and Allow header, "" for no route.
std::string AllowedForPath(const RouteMethods& methods, const std::string& path) {
  const RouteMethods::Route* route = methods.RouteForPath(path);
  return route == nullptr ? "" : route->pattern + ": " + route->allow;
}

TEST(RouteMethodsTest, FindsTheRouteOfAPathAsDrogonsRouterDoes) {
  const RouteMethods methods = SomeRoutes();
  EXPECT_EQ(AllowedForPath(methods, "/api/v1/images/abc"),
            "/api/v1/images/{id}: GET, HEAD, DELETE, OPTIONS");
  EXPECT_EQ(AllowedForPath(methods, "/api/v1/images/abc/file"),
            "/api/v1/images/{id}/file: GET, HEAD, OPTIONS");
  EXPECT_EQ(AllowedForPath(methods, "/api/v1/images"), "/api/v1/images: GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(AllowedForPath(methods, "/API/V1/Images/abc"),
            "/api/v1/images/{id}: GET, HEAD, DELETE, OPTIONS")
      << "case is ignored";
  EXPECT_EQ(AllowedForPath(methods, "/Classify"), "/classify: POST, OPTIONS") << "case is ignored";
  EXPECT_EQ(AllowedForPath(methods, "/api/v1/images/"),
            "/api/v1/images/{id}: GET, HEAD, DELETE, OPTIONS")
      << "an empty segment fills a placeholder in Drogon's router too";
  EXPECT_EQ(AllowedForPath(methods, "/api/v1/images/a/b"), "") << "a placeholder is one segment";
  EXPECT_EQ(AllowedForPath(methods, "/api/openapiXjson"), "")
      << "a pattern without placeholders is a string, not an expression";
  EXPECT_EQ(AllowedForPath(methods, "/classify/"), "");
  EXPECT_EQ(AllowedForPath(methods, "/nowhere"), "");
}

}  // namespace
}  // namespace argus::api
