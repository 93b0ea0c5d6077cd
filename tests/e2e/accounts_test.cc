// Accounts and access control against the real `argus serve`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "cli/run_argus_test.h"
#include "db/drogon_client.h"
#include "serve_process.h"

namespace argus::e2e {
namespace {

using ::testing::HasSubstr;

Json::Value Credentials(const std::string& email, const std::string& password) {
  Json::Value json(Json::objectValue);
  json["email"] = email;
  json["password"] = password;
  return json;
}

std::string CookieValue(const HttpResult& result, const std::string& name) {
  return result.cookies.contains(name) ? result.cookies.at(name) : "";
}

// A JSON request on a connection of its own: the fixture's client sends one at a time.
HttpResult SendOnItsOwnConnection(const ServeProcess& serve, drogon::HttpMethod method,
                                  const std::string& path, const Json::Value& body,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  trantor::EventLoopThread loop;
  loop.run();
  auto client = drogon::HttpClient::newHttpClient(
      "http://127.0.0.1:" + std::to_string(serve.port()), loop.getLoop());
  auto request = drogon::HttpRequest::newHttpJsonRequest(body);
  request->setMethod(method);
  request->setPath(path);
  for (const auto& [name, value] : headers) request->addHeader(name, value);
  auto [result, response] = client->sendRequest(request, 30);
  return ToResult(result, response);
}

class AccountsTest : public ::testing::Test {
 protected:
  void SetUp() override { serve_.Start({"--min-workers=1"}); }
  TempDir dir_;
  ServeProcess serve_{dir_.path() / "data"};
  const std::filesystem::path photo_ =
      SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG";
};

TEST_F(AccountsTest, NoUserSeesAnotherUsersImages) {
  serve_.UseNewAccount("alice@example.com");
  const HttpResult upload = serve_.Upload("/api/v1/images", {{"file", photo_}});
  ASSERT_EQ(upload.status, 202);
  const std::string id = upload.json["images"][0]["id"].asString();
  ASSERT_EQ(serve_.AwaitAll({id})[0]["status"].asString(), "done");
  const std::string alice = serve_.bearer();

  serve_.UseNewAccount("bob@example.com");
  EXPECT_EQ(serve_.Get("/api/v1/images").json["images"].size(), 0u);
  EXPECT_EQ(serve_.Get("/api/v1/images/" + id).status, 404);
  EXPECT_EQ(serve_.Get("/api/v1/images/" + id + "/file").status, 404);
  EXPECT_EQ(serve_.Get("/api/v1/images?label=dog").json["images"].size(), 0u);
  EXPECT_EQ(serve_.Delete("/api/v1/images/" + id).status, 404);
  EXPECT_EQ(serve_.Get("/api/v1/ops/status").status, 403) << "only the first account is admin";

  // Bob uploading the same photo gets his own entry; Alice's is untouched by his delete.
  ASSERT_EQ(
      serve_.Upload("/api/v1/images", {{"file", photo_}}).json["images"][0]["status"].asString(),
      "done");
  EXPECT_EQ(serve_.Delete("/api/v1/images/" + id).status, 204);
  serve_.UseToken(alice);
  EXPECT_EQ(serve_.Get("/api/v1/images/" + id).status, 200);
  EXPECT_EQ(serve_.Get("/api/v1/images/" + id + "/file").status, 200);
  EXPECT_EQ(serve_.Get("/api/v1/ops/status").status, 200);
}

TEST_F(AccountsTest, TheApiNeedsValidCredentials) {
  EXPECT_EQ(serve_.Get("/api/v1/images").status, 401);
  EXPECT_EQ(serve_.Upload("/api/v1/images", {{"file", photo_}}).status, 401);
  EXPECT_EQ(serve_.Get("/api/v1/events").status, 401);
  EXPECT_EQ(serve_.Get("/api/v1/auth/me").status, 401);
  serve_.UseToken("argus_not-a-real-token");
  const HttpResult bad = serve_.Get("/api/v1/images");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.json["error"]["code"].asString(), "unauthenticated");
  // The classic endpoint stays open without an account.
  serve_.UseToken("");
  EXPECT_EQ(serve_.Upload("/", {{"myfile", photo_}}).status, 200);
}

TEST_F(AccountsTest, CookieSessionsAreHttpOnlyLaxAndNeedTheCsrfToken) {
  const HttpResult signup = serve_.SendJson(drogon::Post, "/api/v1/auth/signup",
                                            Credentials("carol@example.com", "longenough"));
  ASSERT_EQ(signup.status, 201) << signup.body;
  EXPECT_TRUE(signup.json["user"]["is_admin"].asBool());
  std::string session_cookie;
  for (const auto& cookie : signup.set_cookies) {
    if (cookie.find("argus_session=") != std::string::npos) session_cookie = cookie;
  }
  EXPECT_THAT(session_cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(session_cookie, HasSubstr("SameSite=Lax"));
  EXPECT_THAT(session_cookie, ::testing::Not(HasSubstr("Secure")));
  EXPECT_THAT(session_cookie, HasSubstr("Max-Age=1209600")) << "14 days";
  const std::string session = CookieValue(signup, "argus_session");
  const std::string csrf = CookieValue(signup, "argus_csrf");
  ASSERT_FALSE(session.empty());
  ASSERT_FALSE(csrf.empty());
  const std::pair<std::string, std::string> cookie{"Cookie", "argus_session=" + session};

  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {cookie})
                .json["user"]["email"]
                .asString(),
            "carol@example.com");
  Json::Value name(Json::objectValue);
  name["name"] = "script";
  EXPECT_EQ(serve_.SendJson(drogon::Post, "/api/v1/tokens", name, {cookie}).status, 403);
  EXPECT_EQ(
      serve_.SendJson(drogon::Post, "/api/v1/tokens", name, {cookie, {"X-CSRF-Token", "wrong"}})
          .status,
      403);
  const HttpResult token =
      serve_.SendJson(drogon::Post, "/api/v1/tokens", name, {cookie, {"X-CSRF-Token", csrf}});
  ASSERT_EQ(token.status, 201);
  EXPECT_THAT(token.json["token"].asString(), ::testing::StartsWith("argus_"));

  // A token makes no tokens: one that leaked could otherwise make copies of itself that
  // outlive its revocation.
  const HttpResult minted =
      serve_.SendJson(drogon::Post, "/api/v1/tokens", name,
                      {{"Authorization", "Bearer " + token.json["token"].asString()}});
  EXPECT_EQ(minted.status, 403) << minted.body;
  EXPECT_EQ(minted.json["error"]["code"].asString(), "forbidden");
  EXPECT_THAT(minted.json["error"]["message"].asString(), HasSubstr("signed-in session"));

  // Tokens are listed without their secret and stop working when revoked.
  serve_.UseToken(token.json["token"].asString());
  EXPECT_EQ(serve_.Get("/api/v1/images").status, 200);
  const HttpResult list = serve_.Get("/api/v1/tokens");
  ASSERT_EQ(list.json["tokens"].size(), 1u);
  EXPECT_FALSE(list.json["tokens"][0].isMember("token"));
  EXPECT_GT(list.json["tokens"][0]["last_used_at_ms"].asInt64(), 0);
  EXPECT_EQ(serve_.Delete("/api/v1/tokens/" + token.json["id"].asString()).status, 204);
  EXPECT_EQ(serve_.Get("/api/v1/images").status, 401);

  const HttpResult logout = serve_.SendJson(drogon::Post, "/api/v1/auth/logout", Json::Value(),
                                            {cookie, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(logout.status, 204);
  EXPECT_EQ(logout.content_type, "") << "no body, so no type of one";
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {cookie}).status, 401);
}

TEST_F(AccountsTest, LoginErrorsDoNotRevealWhetherAnAccountExists) {
  ASSERT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/signup",
                          Credentials("dave@example.com", "longenough"))
                .status,
            201);
  const HttpResult wrong_password = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                                    Credentials("dave@example.com", "nottheone"));
  const HttpResult no_account = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                                Credentials("nobody@example.com", "nottheone"));
  EXPECT_EQ(wrong_password.status, 401);
  EXPECT_EQ(no_account.status, 401);
  EXPECT_EQ(wrong_password.body, no_account.body);
  const HttpResult ok = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                        Credentials("DAVE@example.com", "longenough"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_FALSE(CookieValue(ok, "argus_session").empty());

  EXPECT_EQ(
      serve_.SendJson(drogon::Post, "/api/v1/auth/signup", Credentials("no-at-sign", "longenough"))
          .status,
      400);
  EXPECT_EQ(
      serve_.SendJson(drogon::Post, "/api/v1/auth/signup", Credentials("eve@example.com", "short"))
          .status,
      400);
}

int RetryAfter(const HttpResult& result) {
  return result.headers.contains("retry-after") ? std::stoi(result.headers.at("retry-after")) : -1;
}

// Failed log-ins count, successful ones do not: a person who logs in often is never locked
// out, and a guesser is, whatever address it claims to come from.
TEST_F(AccountsTest, FailedLoginsAreRateLimitedPerClientAddress) {
  ASSERT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/signup",
                          Credentials("x@example.com", "right-password"))
                .status,
            201);  // a sign-up counts as one attempt
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(serve_
                  .SendJson(drogon::Post, "/api/v1/auth/login",
                            Credentials("x@example.com", "right-password"))
                  .status,
              200)
        << i;
  }
  for (int i = 0; i < 9; ++i) {
    ASSERT_EQ(serve_
                  .SendJson(drogon::Post, "/api/v1/auth/login",
                            Credentials("x@example.com", "wrong-password"))
                  .status,
              401)
        << i;
  }
  const HttpResult limited = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                             Credentials("x@example.com", "right-password"),
                                             {{"X-Forwarded-For", "198.51.100.1"}});
  EXPECT_EQ(limited.status, 429) << "no trusted proxy: the header is not believed";
  EXPECT_EQ(limited.json["error"]["code"].asString(), "rate_limited");
  EXPECT_GE(RetryAfter(limited), 55) << "the wait until the oldest attempt leaves the minute";
  EXPECT_LE(RetryAfter(limited), 60);
  EXPECT_THAT(limited.json["error"]["message"].asString(),
              HasSubstr(std::to_string(RetryAfter(limited)) + " s"));
  // A load balancer left out of --trusted-proxies would make all its clients share this
  // limit: the operator is told, once.
  serve_.SendJson(drogon::Post, "/api/v1/auth/login", Credentials("x@example.com", "wrong"),
                  {{"X-Forwarded-For", "198.51.100.2"}});
  const std::string warning =
      "requests from 127.0.0.1 carry X-Forwarded-For, which is ignored: if 127.0.0.1 is a load "
      "balancer, name it in --trusted-proxies";
  const std::string log = serve_.log();
  EXPECT_THAT(log, HasSubstr(warning));
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << "said once";
}

// Behind a load balancer every request comes from its address: with --trusted-proxies the
// limit applies to the client it names.
TEST(AccountsBehindAProxyTest, TheLimitAppliesToTheClientTheProxyNames) {
  TempDir dir;
  ServeProcess web(dir.path() / "data", "web");
  web.Start({"--trusted-proxies=127.0.0.0/8"});
  auto login_from = [&](const std::string& client) {
    return web
        .SendJson(drogon::Post, "/api/v1/auth/login", Credentials("x@example.com", "wrong-one"),
                  {{"X-Forwarded-For", "1.2.3.4, " + client}})
        .status;
  };
  for (int i = 0; i < 10; ++i) ASSERT_EQ(login_from("198.51.100.1"), 401) << i;
  EXPECT_EQ(login_from("198.51.100.1"), 429);
  EXPECT_EQ(login_from("198.51.100.2"), 401) << "another client behind the same proxy";
  EXPECT_THAT(web.log(), HasSubstr(R"("client":"198.51.100.2")")) << "the access log names it";
  EXPECT_EQ(web.Terminate(), 0);
}

// Guesses at one account spread over many addresses are limited per account too: after 20
// failures in 15 minutes even the right password waits, from any address, while other
// accounts are untouched. An email without an account is limited alike, so the answers do
// not tell which emails have one.
TEST(AccountsBehindAProxyTest, FailedLogInsAtOneAccountFromManyAddressesAreLimitedPerAccount) {
  TempDir dir;
  ServeProcess web(dir.path() / "data", "web");
  web.Start({"--trusted-proxies=127.0.0.0/8"});
  int next_address = 1;
  auto login = [&](const std::string& email, const std::string& password) {
    return web.SendJson(drogon::Post, "/api/v1/auth/login", Credentials(email, password),
                        {{"X-Forwarded-For", "198.51.100." + std::to_string(next_address++)}});
  };
  for (const char* email : {"victim@example.com", "other@example.com"}) {
    ASSERT_EQ(
        web.SendJson(drogon::Post, "/api/v1/auth/signup", Credentials(email, "the right password"))
            .status,
        201);
  }
  // The limit is the account's however the email is capitalised.
  for (const auto& [email, capitalised] :
       {std::pair<std::string, std::string>{"victim@example.com", "Victim@Example.COM"},
        {"nobody@example.com", "NoBody@EXAMPLE.com"}}) {
    for (int i = 0; i < 20; ++i) {
      const std::string& sent = i % 2 == 0 ? email : capitalised;
      ASSERT_EQ(login(sent, "guess " + std::to_string(i)).status, 401) << sent << " " << i;
    }
    const HttpResult locked = login(email, "the right password");
    EXPECT_EQ(locked.status, 429) << email << ": " << locked.body;
    EXPECT_EQ(locked.json["error"]["code"].asString(), "rate_limited");
    EXPECT_THAT(locked.json["error"]["message"].asString(), HasSubstr("for this account"));
    EXPECT_GE(RetryAfter(locked), 800) << "until the oldest failure is 15 minutes old";
    EXPECT_LE(RetryAfter(locked), 900);
  }
  EXPECT_EQ(login("other@example.com", "the right password").status, 200);

  // The operator's new password is not locked out by the failures against the old one.
  const cli::Outcome reset = cli::RunArgus(
      "accounts reset-password victim@example.com --data-dir=" + web.data_dir().string());
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  const std::string prefix = "New password for victim@example.com: ";
  const std::string password =
      reset.out.substr(prefix.size(), reset.out.find('\n') - prefix.size());
  EXPECT_EQ(login("victim@example.com", password).status, 200);
  EXPECT_EQ(web.Terminate(), 0);
}

// Listening on ::, the server sees the load balancer's IPv4 address as ::ffff:127.0.0.1,
// which is the trusted 127.0.0.1: each client it names keeps its own limit.
TEST(AccountsBehindAProxyTest, AProxyReachingAnIpv6ListenerOverIpv4IsTrusted) {
  TempDir dir;
  ServeProcess web(dir.path() / "data", "web");
  web.Start({"--host=::", "--trusted-proxies=127.0.0.1"});
  for (int i = 0; i < 12; ++i) {
    const HttpResult attempt =
        web.SendJson(drogon::Post, "/api/v1/auth/login", Credentials("x@example.com", "wrong"),
                     {{"X-Forwarded-For", "198.51.100." + std::to_string(i)}});
    ASSERT_EQ(attempt.status, 401) << i;
  }
  EXPECT_THAT(web.log(), HasSubstr(R"("client":"198.51.100.11")"));
  EXPECT_THAT(web.log(), HasSubstr(R"("peer":"::ffff:127.0.0.1")"));
  EXPECT_EQ(web.Terminate(), 0);
}

// Each attempt counts from its start: attempts sent at once, more than the handler threads
// that check them in parallel, get no more than the limit's 10 password checks.
TEST_F(AccountsTest, ConcurrentFailedLoginsGetNoMoreChecksThanTheLimit) {
  constexpr int kClients = 30;
  std::barrier start(kClients);
  std::vector<int> statuses(kClients);
  {
    std::vector<std::jthread> clients;
    clients.reserve(kClients);
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        trantor::EventLoopThread loop;
        loop.run();
        auto client = drogon::HttpClient::newHttpClient(
            "http://127.0.0.1:" + std::to_string(serve_.port()), loop.getLoop());
        auto request = drogon::HttpRequest::newHttpJsonRequest(
            Credentials("nobody@example.com", "wrong-password"));
        request->setMethod(drogon::Post);
        request->setPath("/api/v1/auth/login");
        start.arrive_and_wait();
        const auto [result, response] = client->sendRequest(request, 60);
        statuses[i] = result == drogon::ReqResult::Ok ? response->statusCode() : 0;
      });
    }
  }
  EXPECT_EQ(std::ranges::count(statuses, 401), 10);
  EXPECT_EQ(std::ranges::count(statuses, 429), kClients - 10);
}

// A password's 8 characters are counted as the web app counts them, not in bytes; an
// email has one @ and no spaces or control characters.
TEST_F(AccountsTest, SignUpCountsPasswordCharactersAndRefusesMalformedEmails) {
  auto signup = [&](const std::string& email, const std::string& password) {
    const HttpResult result =
        serve_.SendJson(drogon::Post, "/api/v1/auth/signup", Credentials(email, password));
    if (result.status == 400) {
      EXPECT_EQ(result.json["error"]["code"].asString(), "invalid_argument") << result.body;
    }
    return result.status;
  };
  std::string seven_emoji;
  for (int i = 0; i < 7; ++i) seven_emoji += "\xF0\x9F\x98\x80";  // 28 bytes
  EXPECT_EQ(signup("emoji@example.com", seven_emoji), 400);
  EXPECT_EQ(signup("hanzi@example.com",
                   "\xE5\xAF\x86\xE7\xA0\x81\xE5\xAF\x86\xE7\xA0\x81"
                   "\xE5\xAF\x86\xE7\xA0\x81\xE5\xAF\x86\xE7\xA0\x81"),
            201);
  for (const std::string email :
       {"two@@example.com", "ctl\x01@example.com", "del\x7F@example.com", "tab\t@example.com"}) {
    EXPECT_EQ(signup(email, "long-enough"), 400) << email;
  }
}

// Spaces of any kind and invisible characters would let an email pass for another one, and
// control characters reach the operator's terminal; bytes that are not UTF-8 are no email.
TEST_F(AccountsTest, SignUpRefusesEmailsWithHiddenCharactersOrBytesThatAreNotUtf8) {
  // A no-break and a zero-width space, a right-to-left override, a terminal escape.
  for (const std::string email : {"no\xC2\xA0"
                                  "break@example.com",
                                  "zero\xE2\x80\x8Bwidth@example.com",
                                  "\xE2\x80\xAEmoc.elpmaxe@rlo", "esc\x1B[31m@example.com"}) {
    const HttpResult result =
        serve_.SendJson(drogon::Post, "/api/v1/auth/signup", Credentials(email, "long-enough"));
    EXPECT_EQ(result.status, 400) << email << ": " << result.body;
  }
  // Sent as they are: a JSON writer would mend them.
  const HttpResult not_utf8 =
      serve_.PostRaw("/api/v1/auth/signup", "application/json",
                     "{\"email\":\"caf\xE9@example.com\",\"password\":\"long-enough\"}");
  EXPECT_EQ(not_utf8.status, 400) << not_utf8.body;
  EXPECT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/signup",
                          Credentials("jos\xC3\xA9@example.com", "long-enough"))
                .status,
            201)
      << "letters of any script";
}

// No account has an email longer than 254 bytes: a log-in with one is refused before it is
// counted against the email, whose limiter would keep it for fifteen minutes (eleven log-ins
// with 20 MiB emails held 1.2 GB), and so against the address too.
TEST_F(AccountsTest, ALogInWithAnEmailLongerThanAnyAccountsIsRefusedUncounted) {
  const std::string long_email = std::string(300, 'a') + "@example.com";
  for (int i = 0; i < 12; ++i) {
    const HttpResult result = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                              Credentials(long_email, "some-password"));
    ASSERT_EQ(result.status, 400) << i << ": " << result.body;
    EXPECT_EQ(result.json["error"]["code"].asString(), "invalid_argument");
  }
  const HttpResult long_password = serve_.SendJson(
      drogon::Post, "/api/v1/auth/login", Credentials("x@example.com", std::string(1025, 'p')));
  EXPECT_EQ(long_password.status, 400) << long_password.body;
  EXPECT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/signup",
                          Credentials("x@example.com", "right-password"))
                .status,
            201)
      << "none of them counted against the address";
}

// A browser sends a cross-site POST without a CORS preflight only with a form's or text's
// media type: a body sent as "text/plain; charset=application/json" let any website sign its
// visitors up or log them in. Only application/json bodies are read, in any case of letters.
TEST_F(AccountsTest, OnlyABodySentAsJsonIsRead) {
  const std::string body = R"({"email":"cross@example.com","password":"long-enough"})";
  for (const char* media_type :
       {"text/plain; charset=application/json", "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=application/json"}) {
    const HttpResult result = serve_.PostRaw("/api/v1/auth/signup", media_type, body);
    EXPECT_EQ(result.status, 400) << media_type << ": " << result.body;
  }
  EXPECT_EQ(serve_.PostRaw("/api/v1/auth/signup", "Application/JSON ; charset=utf-8", body).status,
            201);
}

// Behind a TLS proxy the cookies are Secure, however the proxy spells it.
TEST_F(AccountsTest, CookiesAreSecureWhenAProxySaysTheClientCameOverTls) {
  int n = 0;
  for (const auto& [header, value] :
       std::vector<std::pair<std::string, std::string>>{{"X-Forwarded-Proto", "https"},
                                                        {"X-Forwarded-Proto", "HTTPS"},
                                                        {"X-Forwarded-Proto", "https, http"},
                                                        {"Forwarded", "for=192.0.2.1;proto=https"},
                                                        {"X-Forwarded-Proto", "http"}}) {
    const HttpResult signup = serve_.SendJson(
        drogon::Post, "/api/v1/auth/signup",
        Credentials(std::format("tls{}@example.com", n++), "longenough"), {{header, value}});
    ASSERT_EQ(signup.status, 201) << signup.body;
    const bool secure = std::ranges::all_of(signup.set_cookies, [](const std::string& cookie) {
      return cookie.find("Secure") != std::string::npos;
    });
    EXPECT_EQ(secure, value != "http") << header << ": " << value;
  }
}

// JSON that parses but is not an object is the client's mistake, not the server's.
TEST_F(AccountsTest, JsonBodiesThatAreNotObjectsGet400) {
  Json::Value array(Json::arrayValue);
  array.append(1);
  for (const Json::Value& body : {array, Json::Value("text"), Json::Value(123)}) {
    for (const char* path : {"/api/v1/auth/signup", "/api/v1/auth/login"}) {
      const HttpResult result = serve_.SendJson(drogon::Post, path, body);
      EXPECT_EQ(result.status, 400) << path << " " << body.toStyledString();
      EXPECT_EQ(result.json["error"]["code"].asString(), "invalid_argument") << result.body;
    }
  }
  const std::string token = serve_.UseNewAccount("frank@example.com");
  const HttpResult not_an_object = serve_.SendJson(drogon::Post, "/api/v1/tokens", array,
                                                   {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(not_an_object.status, 400) << not_an_object.body;
  EXPECT_EQ(not_an_object.json["error"]["code"].asString(), "invalid_argument");

  // Nested deeper than the JSON parser goes (it throws there): no object to read either.
  std::string deep_objects;
  for (int i = 0; i < 2000; ++i) deep_objects += R"({"a":)";
  deep_objects += "1" + std::string(2000, '}');
  serve_.UseToken(token);
  for (const std::string& nested :
       {std::string(5000, '[') + std::string(5000, ']'), deep_objects}) {
    for (const char* path :
         {"/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/tokens", "/api/v1/auth/password"}) {
      const HttpResult result = serve_.PostRaw(path, "application/json", nested);
      EXPECT_EQ(result.status, 400) << path << ": " << result.body;
      EXPECT_EQ(result.json["error"]["code"].asString(), "invalid_argument") << result.body;
    }
  }
  EXPECT_EQ(serve_.log().find("Unhandled exception"), std::string::npos) << serve_.log();
  EXPECT_EQ(serve_.log().find("a request handler failed"), std::string::npos) << serve_.log();
}

// The scheme of an Authorization header is case-insensitive; other schemes are refused.
TEST_F(AccountsTest, TheBearerSchemeIsCaseInsensitive) {
  const std::string token = serve_.UseNewAccount("grace@example.com");
  serve_.UseToken("");
  for (const std::string scheme : {"Bearer ", "bearer ", "BEARER  "}) {
    EXPECT_EQ(serve_.Get("/api/v1/images", {{"Authorization", scheme + token}}).status, 200)
        << scheme;
  }
  const HttpResult basic = serve_.Get("/api/v1/images", {{"Authorization", "Basic " + token}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_THAT(basic.headers, ::testing::Contains(::testing::Pair("www-authenticate", "Bearer")));
  EXPECT_EQ(serve_.Get("/api/v1/images", {{"Authorization", "Bearer"}}).status, 401);
}

// A token's name holds up to 100 characters, as the web app counts them: 100 emoji (400
// bytes) are one, 101 are refused.
TEST_F(AccountsTest, TokenNamesAreCountedInCharactersAndMayNotBeBlank) {
  serve_.UseNewAccount("heidi@example.com");
  std::string emoji;
  for (int i = 0; i < 100; ++i) emoji += "\xF0\x9F\x98\x80";
  const HttpResult hundred = serve_.CreateToken(emoji);
  EXPECT_EQ(hundred.status, 201) << hundred.body;
  EXPECT_EQ(hundred.json["name"].asString(), emoji);
  EXPECT_EQ(serve_.CreateToken(emoji + "\xF0\x9F\x98\x80").status, 400);
  for (const char* refused : {"", "   ", " \n\t", "two\nlines", "bell\x07"}) {
    const HttpResult answer = serve_.CreateToken(refused);
    EXPECT_EQ(answer.status, 400) << refused;
    EXPECT_THAT(answer.json["error"]["message"].asString(), HasSubstr("not only spaces"));
  }
}

// A new password signs out every other session, keeps the one that asked and the API tokens,
// and replaces the old one for log-in; wrong current passwords count against the limit.
TEST_F(AccountsTest, ANewPasswordEndsTheOtherSessions) {
  const std::string token = serve_.UseNewAccount("ivan@example.com");
  const Json::Value old_credentials = Credentials("ivan@example.com", "correct horse battery");
  const HttpResult here = serve_.SendJson(drogon::Post, "/api/v1/auth/login", old_credentials);
  const HttpResult elsewhere = serve_.SendJson(drogon::Post, "/api/v1/auth/login", old_credentials);
  ASSERT_EQ(here.status, 200);
  ASSERT_EQ(elsewhere.status, 200);
  const std::vector<std::pair<std::string, std::string>> asking{
      {"Cookie", "argus_session=" + CookieValue(here, "argus_session")},
      {"X-CSRF-Token", CookieValue(here, "argus_csrf")}};
  const std::pair<std::string, std::string> other_cookie{
      "Cookie", "argus_session=" + CookieValue(elsewhere, "argus_session")};
  auto change = [&](const std::string& current, const std::string& replacement,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
    Json::Value body(Json::objectValue);
    body["current_password"] = current;
    body["new_password"] = replacement;
    return serve_.SendJson(drogon::Post, "/api/v1/auth/password", body, headers);
  };

  const HttpResult wrong = change("not the password", "a new passphrase", asking);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.json["error"]["code"].asString(), "wrong_password");
  EXPECT_EQ(change("correct horse battery", "short", asking).status, 400);
  EXPECT_EQ(change("correct horse battery", "a new passphrase", {asking[0]}).status, 403)
      << "a session without its CSRF token";
  EXPECT_EQ(serve_.SendJson(drogon::Post, "/api/v1/auth/password", Json::Value("text"), asking)
                .json["error"]["code"]
                .asString(),
            "invalid_argument");
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {other_cookie}).status,
            200)
      << "nothing changed yet";

  ASSERT_EQ(change("correct horse battery", "a new passphrase", asking).status, 204);
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {asking[0]}).status,
            200);
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {other_cookie}).status,
            401);
  serve_.UseToken(token);
  EXPECT_EQ(serve_.Get("/api/v1/images").status, 200) << "API tokens stay valid";
  EXPECT_EQ(serve_.SendJson(drogon::Post, "/api/v1/auth/login", old_credentials).status, 401);
  EXPECT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/login",
                          Credentials("ivan@example.com", "a new passphrase"))
                .status,
            200);

  // With the API token: the password changes, no session is kept.
  const std::vector<std::pair<std::string, std::string>> bearer{
      {"Authorization", "Bearer " + token}};
  EXPECT_EQ(change("a new passphrase", "a third passphrase", bearer).status, 204);
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {asking[0]}).status,
            401);

  // The sign-up, the wrong password and the log-in with the old one have counted; the limit
  // is ten a minute.
  int refused = 0;
  int limited = 0;
  for (int i = 0; i < 9; ++i) {
    const int status = change("guess " + std::to_string(i), "whatever else", bearer).status;
    refused += status == 403;
    limited += status == 429;
  }
  EXPECT_EQ(refused, 7);
  EXPECT_EQ(limited, 2);
  EXPECT_EQ(change("a third passphrase", "a fourth passphrase", bearer).status, 429)
      << "even the right one waits";
}

// Deleting an account takes its photos (their bytes unless another account has the same
// photo), its sessions and tokens; its email can sign up again.
TEST_F(AccountsTest, DeletingAnAccountTakesItsPhotosAndSignsItOut) {
  const std::filesystem::path other_photo =
      SharedData() / "imagenet-sample" / "n03372029_flute.JPEG";
  ASSERT_TRUE(std::filesystem::exists(other_photo));
  const std::string bob = serve_.UseNewAccount("bob@example.com");
  const HttpResult shared = serve_.Upload("/api/v1/images", {{"file", photo_}});
  ASSERT_EQ(shared.status, 202);
  const std::string shared_id = shared.json["images"][0]["id"].asString();

  const std::string judy = serve_.UseNewAccount("judy@example.com");
  const HttpResult both =
      serve_.Upload("/api/v1/images", {{"file", photo_}, {"file", other_photo}});
  ASSERT_EQ(both.status, 202) << both.body;
  const std::string own_id = both.json["images"][1]["id"].asString();
  ASSERT_EQ(both.json["images"][0]["id"].asString(), shared_id);
  serve_.AwaitAll({shared_id, own_id});
  const std::filesystem::path own_bytes = serve_.data_dir() / "blobs" / "inputs" / own_id;
  ASSERT_TRUE(std::filesystem::exists(own_bytes));

  const std::vector<std::pair<std::string, std::string>> as_judy{
      {"Authorization", "Bearer " + judy}};
  Json::Value password(Json::objectValue);
  password["password"] = "not it";
  const HttpResult wrong = serve_.SendJson(drogon::Delete, "/api/v1/auth/me", password, as_judy);
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.json["error"]["code"].asString(), "wrong_password");
  EXPECT_EQ(serve_.Get("/api/v1/images").json["images"].size(), 2u) << "nothing removed";

  password["password"] = "correct horse battery";
  ASSERT_EQ(serve_.SendJson(drogon::Delete, "/api/v1/auth/me", password, as_judy).status, 204);
  EXPECT_EQ(serve_.Get("/api/v1/images").status, 401) << "the token went with the account";
  EXPECT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/login",
                          Credentials("judy@example.com", "correct horse battery"))
                .status,
            401);
  EXPECT_FALSE(std::filesystem::exists(own_bytes)) << "no other account had that photo";
  serve_.UseToken(bob);
  EXPECT_EQ(serve_.Get("/api/v1/images/" + shared_id + "/file").status, 200)
      << "bob keeps the photo they both had";
  EXPECT_EQ(serve_.Get("/api/v1/images/" + own_id).status, 404);
  EXPECT_THAT(serve_.log(), HasSubstr("deleted with its 2 photos"));

  serve_.UseNewAccount("judy@example.com");
  EXPECT_EQ(serve_.Get("/api/v1/images").json["images"].size(), 0u) << "a fresh account";
}

// Two password changes at once, each checked against the same old password: only one takes
// effect, and only its session stays signed in (both answered 204 and both were signed out).
TEST_F(AccountsTest, OfTwoPasswordChangesAtOnceOneWins) {
  serve_.UseNewAccount("nia@example.com");
  std::string password = "correct horse battery";
  for (int round = 0; round < 3; ++round) {
    std::vector<std::vector<std::pair<std::string, std::string>>> sessions;
    for (int i = 0; i < 2; ++i) {
      const HttpResult login = serve_.SendJson(drogon::Post, "/api/v1/auth/login",
                                               Credentials("nia@example.com", password));
      ASSERT_EQ(login.status, 200) << login.body;
      sessions.push_back({{"Cookie", "argus_session=" + CookieValue(login, "argus_session")},
                          {"X-CSRF-Token", CookieValue(login, "argus_csrf")}});
    }
    const std::string candidates[] = {std::format("first choice {}", round),
                                      std::format("second choice {}", round)};
    int statuses[2] = {0, 0};
    std::barrier start(2);
    {
      std::vector<std::jthread> changes;
      changes.reserve(2);
      for (int i = 0; i < 2; ++i) {
        changes.emplace_back([&, i] {
          Json::Value body(Json::objectValue);
          body["current_password"] = password;
          body["new_password"] = candidates[i];
          start.arrive_and_wait();
          statuses[i] = SendOnItsOwnConnection(serve_, drogon::Post, "/api/v1/auth/password", body,
                                               sessions[i])
                            .status;
        });
      }
    }
    const int winners = static_cast<int>(std::ranges::count(statuses, 204));
    ASSERT_EQ(winners, 1) << "round " << round << ": " << statuses[0] << ", " << statuses[1];
    const int winner = statuses[0] == 204 ? 0 : 1;
    EXPECT_THAT((std::vector{401, 403}), ::testing::Contains(statuses[1 - winner]));
    EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {sessions[winner][0]})
                  .status,
              200)
        << "the winner stays signed in";
    EXPECT_EQ(serve_
                  .SendJson(drogon::Post, "/api/v1/auth/login",
                            Credentials("nia@example.com", candidates[1 - winner]))
                  .status,
              401);
    password = candidates[winner];
  }
}

// An account deleted while its uploads are on their way leaves none of them behind: no
// gallery entry owned by the account that is gone, and no bytes.
TEST_F(AccountsTest, AnAccountDeletedDuringItsUploadsKeepsNoneOfThem) {
  serve_.UseNewAccount("admin@example.com");  // the first account, which may not go
  serve_.UseNewAccount("otto@example.com");
  const std::string user_id = serve_.Get("/api/v1/auth/me").json["user"]["id"].asString();
  const auto photos = SamplePhotos();
  std::atomic<std::size_t> answered = 0;
  std::jthread uploader([&] { UploadConcurrently(serve_, photos, 5, 4, &answered); });
  while (answered < 40) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Json::Value password(Json::objectValue);
  password["password"] = "correct horse battery";
  const HttpResult deleted = serve_.SendJson(drogon::Delete, "/api/v1/auth/me", password,
                                             {{"Authorization", "Bearer " + serve_.bearer()}});
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  uploader.join();
  ASSERT_LT(answered, photos.size()) << "the uploads ended before the deletion";

  auto catalog = db::OpenSqliteClient((serve_.data_dir() / "catalog.db").string());
  ASSERT_TRUE(catalog) << catalog.error().message;
  const auto count = [&](const std::string& sql) {
    return (*catalog)->execSqlSync(sql)[0][0].as<std::int64_t>();
  };
  EXPECT_EQ(count("SELECT count(*) FROM uploads WHERE owner = '" + user_id + "'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM images"), 0);
  db::ReleaseDbClient(std::move(*catalog));
  EXPECT_EQ(
      std::distance(std::filesystem::directory_iterator(serve_.data_dir() / "blobs" / "inputs"),
                    std::filesystem::directory_iterator()),
      0)
      << "bytes of photos of a deleted account";
}

// The operator lists the accounts and gives one that forgot its password a new one, from the
// command line, while the service runs.
TEST_F(AccountsTest, TheOperatorListsAccountsAndResetsAForgottenPassword) {
  const std::string token = serve_.UseNewAccount("kim@example.com");
  const std::string lee_token = serve_.UseNewAccount("lee@example.com");
  const HttpResult session = serve_.SendJson(
      drogon::Post, "/api/v1/auth/login", Credentials("lee@example.com", "correct horse battery"));
  ASSERT_EQ(session.status, 200);
  const std::pair<std::string, std::string> cookie{
      "Cookie", "argus_session=" + CookieValue(session, "argus_session")};
  const std::string data = " --data-dir=" + serve_.data_dir().string();

  const cli::Outcome listed = cli::RunArgus("accounts list" + data);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, ::testing::MatchesRegex("EMAIL +ROLE +SIGNED UP\n"
                                                  "kim@example.com +administrator +20[0-9-]+ "
                                                  "[0-9:]+ UTC\n"
                                                  "lee@example.com +member +20.*\n"));

  const cli::Outcome reset = cli::RunArgus("accounts reset-password LEE@example.com" + data);
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  const std::string prefix = "New password for LEE@example.com: ";
  ASSERT_THAT(reset.out, ::testing::StartsWith(prefix));
  const std::string password =
      reset.out.substr(prefix.size(), reset.out.find('\n') - prefix.size());
  EXPECT_EQ(password.size(), 20u) << reset.out;
  EXPECT_EQ(serve_.SendJson(drogon::Get, "/api/v1/auth/me", Json::Value(), {cookie}).status, 401)
      << "the account's sessions ended";
  EXPECT_THAT(reset.out, HasSubstr("its 1 API token was revoked"));
  serve_.UseToken(lee_token);
  EXPECT_EQ(serve_.Get("/api/v1/auth/me").status, 401)
      << "a token a stolen session made ends with it";
  EXPECT_EQ(serve_
                .SendJson(drogon::Post, "/api/v1/auth/login",
                          Credentials("lee@example.com", "correct horse battery"))
                .status,
            401);
  EXPECT_EQ(
      serve_.SendJson(drogon::Post, "/api/v1/auth/login", Credentials("lee@example.com", password))
          .status,
      200);
  serve_.UseToken(token);
  EXPECT_EQ(serve_.Get("/api/v1/auth/me").json["user"]["email"].asString(), "kim@example.com")
      << "other accounts are untouched";

  const cli::Outcome unknown = cli::RunArgus("accounts reset-password nobody@example.com" + data);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no account with the email nobody@example.com"));
  const cli::Outcome elsewhere =
      cli::RunArgus("accounts list --data-dir=" + (dir_.path() / "nothing-here").string());
  EXPECT_EQ(elsewhere.exit_code, 1);
  EXPECT_THAT(elsewhere.err, HasSubstr("no catalog at"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "nothing-here")) << "nothing made there";
  // A catalog file without a schema (made empty, or copied without its -wal) is no service's.
  const std::filesystem::path copied = dir_.path() / "copied";
  std::filesystem::create_directories(copied);
  std::ofstream{copied / "catalog.db"};
  const cli::Outcome schemaless = cli::RunArgus("accounts list --data-dir=" + copied.string());
  EXPECT_EQ(schemaless.exit_code, 1);
  EXPECT_THAT(schemaless.err, HasSubstr("holds no Argus catalog")) << schemaless.out;
  EXPECT_EQ(std::filesystem::file_size(copied / "catalog.db"), 0u) << "left as it was";
}

// The only administrator cannot delete the account and leave the service without one; the
// operator names another first. A reset for a forgotten password may keep the API tokens.
TEST_F(AccountsTest, TheOnlyAdministratorCannotLeaveTheServiceWithoutOne) {
  const std::string kim = serve_.UseNewAccount("kim@example.com");
  const std::string lee = serve_.UseNewAccount("lee@example.com");
  const std::string data = " --data-dir=" + serve_.data_dir().string();
  Json::Value password(Json::objectValue);
  password["password"] = "correct horse battery";
  const std::vector<std::pair<std::string, std::string>> as_kim{{"Authorization", "Bearer " + kim}};
  const HttpResult refused = serve_.SendJson(drogon::Delete, "/api/v1/auth/me", password, as_kim);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_THAT(refused.json["error"]["message"].asString(),
              HasSubstr("argus accounts make-admin EMAIL"));

  const cli::Outcome made = cli::RunArgus("accounts make-admin Lee@Example.com" + data);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out, "lee@example.com is an administrator.\n");
  EXPECT_THAT(cli::RunArgus("accounts list" + data).out,
              ::testing::ContainsRegex("lee@example.com +administrator"));
  EXPECT_EQ(serve_.SendJson(drogon::Delete, "/api/v1/auth/me", password, as_kim).status, 204);
  const cli::Outcome unknown = cli::RunArgus("accounts make-admin kim@example.com" + data);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no account with the email kim@example.com"));

  const cli::Outcome kept =
      cli::RunArgus("accounts reset-password --keep-tokens lee@example.com" + data);
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_THAT(kept.out, HasSubstr("its API tokens still work (--keep-tokens)"));
  serve_.UseToken(lee);
  EXPECT_EQ(serve_.Get("/api/v1/auth/me").status, 200);
}

}  // namespace
}  // namespace argus::e2e
