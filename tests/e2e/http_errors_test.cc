// End-to-end tests of the answers to requests no handler takes: a method a path does not
// accept, OPTIONS, and what Drogon refuses before any of our code runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "serve_process.h"

namespace argus::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A header's value as received, "" when it was not sent.
std::string HeaderOf(const HttpResult& answer, const std::string& lower_case_name) {
  const auto found = answer.headers.find(lower_case_name);
  return found == answer.headers.end() ? "" : found->second;
}

class HttpErrorsTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(HttpErrorsTest, AMethodAPathDoesNotAcceptGets405WithAllowAndTheJsonError) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const std::tuple<drogon::HttpMethod, std::string, std::string> cases[] = {
      {drogon::Put, "/api/v1/images", "GET, HEAD, POST, OPTIONS"},
      {drogon::Delete, "/healthz", "GET, HEAD, OPTIONS"},
      {drogon::Post, "/api/v1/images/abc/file", "GET, HEAD, OPTIONS"},
      {drogon::Patch, "/api/v1/tokens/abc", "DELETE, OPTIONS"},
      // HEAD is answered as GET is, so a path without GET refuses it too.
      {drogon::Head, "/classify", "POST, OPTIONS"}};
  for (const auto& [method, path, allow] : cases) {
    const HttpResult answer = web.SendJson(method, path, Json::nullValue);
    EXPECT_EQ(answer.status, 405) << path;
    EXPECT_EQ(HeaderOf(answer, "allow"), allow) << path;
    if (method != drogon::Head) {
      EXPECT_EQ(answer.json["error"]["code"].asString(), "http_405") << answer.body;
      EXPECT_THAT(answer.json["error"]["message"].asString(), HasSubstr("Allow"));
    }
  }
  const HttpResult unknown = web.SendJson(drogon::Put, "/no/such/route", Json::nullValue);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error"]["code"].asString(), "not_found") << unknown.body;
  EXPECT_FALSE(unknown.headers.contains("allow"));
  EXPECT_EQ(web.Terminate(), 0);
}

TEST_F(HttpErrorsTest, OptionsIsAnswered204WithThePathsMethods) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const std::pair<std::string, std::string> cases[] = {
      {"/api/v1/images", "GET, HEAD, POST, OPTIONS"},
      {"/api/v1/images/abc", "GET, HEAD, DELETE, OPTIONS"},
      {"/classify", "POST, OPTIONS"},
      {"/healthz", "GET, HEAD, OPTIONS"}};
  for (const auto& [path, allow] : cases) {
    const HttpResult answer = web.SendJson(drogon::Options, path, Json::nullValue);
    EXPECT_EQ(answer.status, 204) << path << ": " << answer.body;
    EXPECT_EQ(HeaderOf(answer, "allow"), allow) << path;
    EXPECT_EQ(answer.body, "") << path;
    EXPECT_FALSE(answer.headers.contains("access-control-allow-origin")) << "no CORS policy";
  }
  const HttpResult unknown = web.SendJson(drogon::Options, "/no/such/route", Json::nullValue);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error"]["code"].asString(), "not_found") << unknown.body;
  EXPECT_EQ(web.Terminate(), 0);
}

TEST_F(HttpErrorsTest, AUriOverTheLimitGetsTheJson414) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const auto request = [](std::size_t query_bytes) {
    return "GET /healthz?padding=" + std::string(query_bytes, 'x') +
           " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  };
  const std::string refused = RawExchange(web.port(), request(9000), std::chrono::seconds(10));
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 414 ")) << refused.substr(0, 200);
  EXPECT_THAT(refused, HasSubstr(R"({"error":{"code":"uri_too_long",)"));
  const std::string served = RawExchange(web.port(), request(7000), std::chrono::seconds(10));
  EXPECT_THAT(served, StartsWith("HTTP/1.1 200 ")) << served.substr(0, 200);
  EXPECT_EQ(web.Terminate(), 0);
}

}  // namespace
}  // namespace argus::e2e
