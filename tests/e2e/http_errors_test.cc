// End-to-end tests of the answers to requests no handler takes: a method a path does not
// accept, OPTIONS, and what Drogon refuses before any of our code runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <tuple>
#include <utility>

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
  // An empty segment is no id: these are no routes, not an image without one.
  for (const auto& [method, path] :
       {std::pair{drogon::Post, "/api/v1/images/"}, std::pair{drogon::Get, "/api/v1/images/"},
        std::pair{drogon::Get, "/api/v1/images//file"},
        std::pair{drogon::Get, "/api/v1/tokens/"}}) {
    const HttpResult empty = web.SendJson(method, path, Json::nullValue);
    EXPECT_EQ(empty.status, 404) << path;
    EXPECT_EQ(empty.json["error"]["code"].asString(), "not_found") << empty.body;
    EXPECT_FALSE(empty.headers.contains("allow")) << path;
  }
  EXPECT_EQ(web.Terminate(), 0);
}

// An answer and its access line carry one id (a load balancer's X-Request-Id when usable), so
// that a request can be followed through the logs; there was none to match a 500 with.
TEST_F(HttpErrorsTest, EveryAnswerCarriesTheRequestIdItsLogLineNames) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const HttpResult given = web.Get("/healthz", {{"X-Request-Id", "lb-42:a.b_c"}});
  EXPECT_EQ(HeaderOf(given, "x-request-id"), "lb-42:a.b_c");
  const std::regex made("[0-9a-f]{16}");
  const HttpResult unknown = web.Get("/no/such/route");
  const std::string unknown_id = HeaderOf(unknown, "x-request-id");
  EXPECT_TRUE(std::regex_match(unknown_id, made)) << unknown_id;
  const HttpResult unusable = web.Get("/healthz", {{"X-Request-Id", std::string(129, 'a')}});
  const std::string replaced = HeaderOf(unusable, "x-request-id");
  EXPECT_TRUE(std::regex_match(replaced, made)) << replaced;
  EXPECT_NE(HeaderOf(web.Get("/healthz"), "x-request-id"), replaced) << "one id per request";
  EXPECT_EQ(web.Terminate(), 0);
  const std::string log = web.log();
  for (const std::string& id : {std::string("lb-42:a.b_c"), unknown_id, replaced}) {
    EXPECT_THAT(log, HasSubstr("\"request_id\":\"" + id + "\"")) << id;
  }
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
  // As for every other method: no route of the API ends with a slash.
  const HttpResult slash = web.SendJson(drogon::Options, "/api/v1/images/", Json::nullValue);
  EXPECT_EQ(slash.status, 404) << slash.body;
  EXPECT_FALSE(slash.headers.contains("allow"));
  // Counted by their route and the method sent, HEAD too, which Drogon hands on as a GET.
  EXPECT_EQ(web.SendJson(drogon::Head, "/healthz", Json::nullValue).status, 200);
  const std::string metrics = web.Get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(R"(argus_http_requests_total{route="/api/v1/images/{id}",)"
                                 R"(method="OPTIONS",status="204"} 1)"));
  EXPECT_THAT(metrics, HasSubstr(R"(argus_http_requests_total{route="/healthz",method="HEAD",)"
                                 R"(status="200"} 1)"));
  EXPECT_THAT(metrics, HasSubstr(R"(argus_http_requests_total{route="unmatched",)"
                                 R"(method="OPTIONS",status="404"} 2)"));
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

// Drogon reads a body with both framings by its Content-Length, where a proxy following RFC
// 9112 reads it chunked: the two would disagree on where the next request starts.
TEST_F(HttpErrorsTest, ARequestWithBothBodyLengthsIsRefused) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const std::string answer =
      RawExchange(web.port(),
                  "POST /api/v1/images HTTP/1.1\r\nHost: localhost\r\n"
                  "Connection: close\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                  "0\r\n\r\n",
                  std::chrono::seconds(10));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 ")) << answer;
  EXPECT_THAT(answer, HasSubstr("both Transfer-Encoding and Content-Length"));
  EXPECT_EQ(web.Terminate(), 0);
}

// The framework's body limit is ours plus a margin for our own JSON refusal; the largest
// limit one can give must not wrap that sum round to a few MiB.
TEST_F(HttpErrorsTest, TheLargestRequestLimitDoesNotWrapAround) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--max-request-bytes=18446744073709551615"});
  const std::string text(std::size_t{20} * 1024 * 1024, 'x');
  const HttpResult answer =
      web.PostRaw("/", "multipart/form-data; boundary=xyz",
                  "--xyz\r\nContent-Disposition: form-data; name=\"myfile\"; filename=\"a.jpg\"\r\n"
                  "Content-Type: image/jpeg\r\n\r\n" +
                      text + "\r\n--xyz--\r\n");
  EXPECT_EQ(answer.status, 415) << answer.body;
  EXPECT_EQ(answer.json["error"]["code"].asString(), "unsupported_media") << answer.body;
  EXPECT_EQ(web.Terminate(), 0);
}

// What Drogon cannot parse it answers itself before any of our code runs: a status line,
// no body, and the connection closed (docs/ARCHITECTURE.md, "Answers Drogon gives alone").
// These pin that list to the Drogon in use.
TEST_F(HttpErrorsTest, DrogonsOwnRefusalsAreTheDocumentedBareAnswers) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--max-request-bytes=1000"});
  const std::string long_text(std::size_t{70} * 1024, 'a');
  const std::pair<std::string, int> cases[] = {
      {"NONSENSE\r\n\r\n", 400},
      {"GET /healthz HTTP/2.0\r\n\r\n", 400},
      {"GET /healthz HTTP/1.1\r\nX-Long: " + long_text, 400},
      {"POST / HTTP/1.1\r\nContent-Length: lots\r\n\r\n", 400},
      {"TRACE /healthz HTTP/1.1\r\n\r\n", 405},
      // Over --max-request-bytes and the 16 MiB more that Drogon lets through.
      {"POST / HTTP/1.1\r\nContent-Length: 20000000\r\n\r\n", 413},
      {"GET /" + long_text, 414},
      {"POST / HTTP/1.1\r\nExpect: a-party\r\nContent-Length: 1\r\n\r\nx", 417},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501}};
  for (const auto& [request, status] : cases) {
    const std::string answer = RawExchange(web.port(), request, std::chrono::seconds(10));
    EXPECT_TRUE(std::regex_match(answer, std::regex("HTTP/1\\.1 " + std::to_string(status) +
                                                    " [A-Za-z -]+\r\nConnection: close\r\n\r\n")))
        << request.substr(0, 60) << " -> " << answer;
  }
  EXPECT_EQ(web.Get("/healthz").status, 200);
  EXPECT_EQ(LinesWith(web.log(), {"\"component\":\"http\"", "\"status\":4"}), 0u)
      << "no request object, so no access log line either";
  EXPECT_EQ(web.Terminate(), 0);
}

}  // namespace
}  // namespace argus::e2e
