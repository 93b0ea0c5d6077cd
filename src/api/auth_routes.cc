// Accounts: sign-up, log-in, log-out, the current user, a new password, deleting the account,
// personal API tokens.
#include <drogon/drogon.h>
#include <json/json.h>

#include <chrono>
#include <format>
#include <string>

#include "api/http_errors.h"
#include "api/off_the_loop.h"
#include "api/routes.h"
#include "auth/attempt_limiter.h"
#include "common/clock.h"
#include "common/log.h"

namespace argus::api {
namespace {

constexpr char kSessionCookie[] = "argus_session";
constexpr char kCsrfCookie[] = "argus_csrf";

// Per client address: 10 failed log-ins, 10 sign-ups, or 10 wrong passwords given to change
// the password or delete the account, a minute; then 429.
constexpr std::size_t kAttemptsPerWindow = 10;
constexpr std::chrono::seconds kAttemptWindow(60);

Json::Value UserJson(const catalog::UserRecord& user) {
  Json::Value json(Json::objectValue);
  json["id"] = user.id;
  json["email"] = user.email;
  json["is_admin"] = user.is_admin;
  return json;
}

// Secure cookies when the client reached us over TLS (directly or through a proxy).
bool OverTls(const HttpRequestPtr& request) {
  return request->isOnSecureConnection() || request->getHeader("x-forwarded-proto") == "https";
}

void SetSessionCookies(const HttpResponsePtr& response, const HttpRequestPtr& request,
                       const std::string& session, const std::string& csrf, int max_age_s) {
  drogon::Cookie session_cookie(kSessionCookie, session);
  session_cookie.setHttpOnly(true);
  drogon::Cookie csrf_cookie(kCsrfCookie, csrf);
  csrf_cookie.setHttpOnly(false);  // the page reads it to echo it in X-CSRF-Token
  for (drogon::Cookie* cookie : {&session_cookie, &csrf_cookie}) {
    cookie->setPath("/");
    cookie->setSameSite(drogon::Cookie::SameSite::kLax);
    cookie->setSecure(OverTls(request));
    cookie->setMaxAge(max_age_s);
    response->addCookie(*cookie);
  }
}

// A JSON body that is an object, else null. Indexing any other JSON value throws.
const Json::Value* JsonObjectOf(const HttpRequestPtr& request) {
  const auto& json = request->getJsonObject();
  return json && json->isObject() ? json.get() : nullptr;
}

Result<std::pair<std::string, std::string>> CredentialsOf(const HttpRequestPtr& request) {
  const Json::Value* json = JsonObjectOf(request);
  if (json == nullptr || !(*json)["email"].isString() || !(*json)["password"].isString()) {
    return Fail(ErrorCode::kInvalidArgument,
                "send a JSON object with \"email\" and \"password\" strings");
  }
  return std::pair{(*json)["email"].asString(), (*json)["password"].asString()};
}

HttpResponsePtr SessionResponse(const HttpRequestPtr& request, const auth::NewSession& session,
                                drogon::HttpStatusCode status) {
  Json::Value body(Json::objectValue);
  body["user"] = UserJson(session.user);
  auto response = HttpResponse::newHttpJsonResponse(body);
  response->setStatusCode(status);
  const int max_age = static_cast<int>((session.expires_at_ms - NowMs()) / 1000);
  SetSessionCookies(response, request, session.token, session.csrf_token, max_age);
  return response;
}

HttpResponsePtr TooManyAttempts(std::chrono::seconds wait) {
  auto response = ErrorResponse(
      drogon::k429TooManyRequests, "rate_limited",
      std::format("too many attempts from this address; try again in {} s", wait.count()));
  response->addHeader("Retry-After", std::to_string(wait.count()));
  return response;
}

Json::Value TokenJson(const catalog::TokenRecord& token) {
  Json::Value json(Json::objectValue);
  json["id"] = token.id;
  json["name"] = token.name;
  json["created_at_ms"] = static_cast<Json::Int64>(token.created_at_ms);
  json["last_used_at_ms"] = static_cast<Json::Int64>(token.last_used_at_ms);
  return json;
}

void LogOut(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
            Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  if (auto ended = context->accounts.LogOut(request->getCookie(kSessionCookie)); !ended) {
    return callback(ErrorResponse(ended.error()));
  }
  auto response = NoContentResponse();
  SetSessionCookies(response, request, "", "", 0);
  callback(response);
}

void CurrentUser(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                 Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  Json::Value body(Json::objectValue);
  body["user"] = UserJson(principal->user);
  callback(HttpResponse::newHttpJsonResponse(body));
}

// A signed-in user's password, checked before a change of it or the account's deletion. The
// wrong ones count against the log-in limit: a session left open must not guess its way to
// the password. The response is the refusal to send, if any.
std::optional<HttpResponsePtr> RefuseWrongPassword(ApiContext& context,
                                                   auth::AttemptLimiter& limiter,
                                                   const HttpRequestPtr& request,
                                                   const std::function<Result<void>()>& check) {
  const std::string client = ClientAddress(context.options.trusted_proxies, request);
  const auto admitted_at = auth::AttemptLimiter::Clock::now();
  const std::chrono::seconds wait = limiter.Admit(client, admitted_at);
  if (wait.count() > 0) return TooManyAttempts(wait);
  auto checked = check();
  if (!checked && checked.error().code == ErrorCode::kNotFound) {
    return ErrorResponse(drogon::k403Forbidden, "wrong_password", checked.error().message);
  }
  limiter.Forgive(client, admitted_at);
  if (!checked) return ErrorResponse(checked.error());
  return std::nullopt;
}

// The strings `names` of a JSON object body, else a 400 naming them.
std::expected<std::vector<std::string>, HttpResponsePtr> StringsOf(
    const HttpRequestPtr& request, std::initializer_list<std::string_view> names) {
  const Json::Value* json = JsonObjectOf(request);
  std::vector<std::string> values;
  std::string expected;
  for (const std::string_view name : names) {
    expected += std::format("{}\"{}\"", expected.empty() ? "" : " and ", name);
    if (json != nullptr && (*json)[std::string(name)].isString()) {
      values.push_back((*json)[std::string(name)].asString());
    }
  }
  if (values.size() != names.size()) {
    return std::unexpected(ErrorResponse(drogon::k400BadRequest, "invalid_argument",
                                         "send a JSON object with " + expected +
                                             (names.size() == 1 ? " as a string" : " as strings")));
  }
  return values;
}

void ChangePassword(const std::shared_ptr<ApiContext>& context, auth::AttemptLimiter& limiter,
                    const HttpRequestPtr& request, Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  auto passwords = StringsOf(request, {"current_password", "new_password"});
  if (!passwords) return callback(passwords.error());
  // The session that asked stays signed in; a request with an API token keeps none.
  const std::string session =
      principal->csrf_token.empty() ? "" : request->getCookie(kSessionCookie);
  if (auto refused = RefuseWrongPassword(*context, limiter, request, [&] {
        return context->accounts.ChangePassword(principal->user, (*passwords)[0], (*passwords)[1],
                                                session);
      })) {
    return callback(*refused);
  }
  callback(NoContentResponse());
}

void DeleteAccount(const std::shared_ptr<ApiContext>& context, auth::AttemptLimiter& limiter,
                   const HttpRequestPtr& request, Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  auto password = StringsOf(request, {"password"});
  if (!password) return callback(password.error());
  const catalog::UserRecord& user = principal->user;
  if (auto refused = RefuseWrongPassword(*context, limiter, request, [&] {
        return context->accounts.CheckPassword(user, (*password)[0]);
      })) {
    return callback(*refused);
  }
  // The account first: its uploads under way are then refused, so its photos stop coming.
  if (auto deleted = context->accounts.DeleteAccount(user); !deleted) {
    return callback(ErrorResponse(deleted.error()));
  }
  // What a failure leaves, the web tier's periodic sweep removes (RemovePhotosOfDeletedUsers);
  // the account is gone either way.
  if (auto removed = context->RemoveImagesOf(user.id); removed) {
    LogLine("info", "web", std::format("account {} deleted with its {} photos", user.id, *removed));
  } else {
    LogLine("error", "web",
            "account " + user.id +
                " deleted; its photos are removed later: " + removed.error().message);
  }
  auto response = NoContentResponse();
  SetSessionCookies(response, request, "", "", 0);
  callback(response);
}

void ListTokens(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  auto tokens = context->accounts.ListApiTokens(principal->user);
  if (!tokens) return callback(ErrorResponse(tokens.error()));
  Json::Value body(Json::objectValue);
  body["tokens"] = Json::Value(Json::arrayValue);
  for (const auto& token : *tokens) body["tokens"].append(TokenJson(token));
  callback(HttpResponse::newHttpJsonResponse(body));
}

void CreateToken(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                 Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const Json::Value* json = JsonObjectOf(request);
  if (json == nullptr && request->getJsonObject()) {
    return callback(ErrorResponse(drogon::k400BadRequest, "invalid_argument",
                                  "send a JSON object, e.g. {\"name\": \"laptop\"}"));
  }
  const std::string name =
      json != nullptr && (*json)["name"].isString() ? (*json)["name"].asString() : "";
  auto token = context->accounts.CreateApiToken(principal->user, name);
  if (!token) return callback(ErrorResponse(token.error()));
  Json::Value body = TokenJson(token->record);
  body["token"] = token->token;
  auto response = HttpResponse::newHttpJsonResponse(body);
  response->setStatusCode(drogon::k201Created);
  callback(response);
}

void RevokeToken(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                 Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  if (auto revoked = context->accounts.RevokeApiToken(principal->user, id); !revoked) {
    return callback(ErrorResponse(revoked.error()));
  }
  callback(NoContentResponse());
}

}  // namespace

void RegisterAuthRoutes(const std::shared_ptr<ApiContext>& context) {
  auto& app = drogon::app();
  auto limiter = std::make_shared<auth::AttemptLimiter>(kAttemptsPerWindow, kAttemptWindow);
  // Sign-up and log-in share their rate limit, their reading of the credentials and their
  // answer (a session cookie); each maps its own refusal onto a response that does not
  // reveal whether the account exists. `counts` says which outcomes count against the limit.
  auto credentials_route = [&app, context, limiter](const std::string& path, const auto& attempt,
                                                    ErrorCode refused, auto refusal,
                                                    drogon::HttpStatusCode success, auto counts) {
    auto handle = [limiter, attempt, refused, refusal, success, counts](
                      const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                      Callback&& callback) {
      const std::string client = ClientAddress(context->options.trusted_proxies, request);
      const auto admitted_at = auth::AttemptLimiter::Clock::now();
      const std::chrono::seconds wait = limiter->Admit(client, admitted_at);
      if (wait.count() > 0) return callback(TooManyAttempts(wait));
      auto credentials = CredentialsOf(request);
      if (!credentials) {
        limiter->Forgive(client, admitted_at);
        return callback(ErrorResponse(credentials.error()));
      }
      auto session = attempt(credentials->first, credentials->second);
      if (!counts(session)) limiter->Forgive(client, admitted_at);
      if (!session && session.error().code == refused) return callback(refusal());
      if (!session) return callback(ErrorResponse(session.error()));
      callback(SessionResponse(request, *session, success));
    };
    app.registerHandler(path, OffTheLoop(context, std::move(handle)), {drogon::Post});
  };
  credentials_route(
      "/api/v1/auth/signup",
      [context](const std::string& email, const std::string& password) {
        return context->accounts.SignUp(email, password);
      },
      ErrorCode::kConflict,
      [] {
        // Same words as a failed log-in would use, without confirming the account.
        return ErrorResponse(drogon::k409Conflict, "signup_refused",
                             "cannot create an account with this email; log in instead if it "
                             "is yours");
      },
      drogon::k201Created, [](const auto& /*outcome*/) { return true; });
  credentials_route(
      "/api/v1/auth/login",
      [context](const std::string& email, const std::string& password) {
        return context->accounts.LogIn(email, password);
      },
      ErrorCode::kNotFound,
      [] {
        return ErrorResponse(drogon::k401Unauthorized, "invalid_credentials",
                             "wrong email or password");
      },
      drogon::k200OK,
      [](const auto& outcome) { return !outcome && outcome.error().code == ErrorCode::kNotFound; });
  app.registerHandler("/api/v1/auth/logout", OffTheLoop(context, LogOut), {drogon::Post});
  app.registerHandler("/api/v1/auth/me", OffTheLoop(context, CurrentUser), {drogon::Get});
  // The routes that check a signed-in user's password share the log-in limit.
  auto with_limiter = [&context, limiter](auto handle) {
    return OffTheLoop(context,
                      [limiter, handle](const std::shared_ptr<ApiContext>& context,
                                        const HttpRequestPtr& request, Callback&& callback) {
                        handle(context, *limiter, request, std::move(callback));
                      });
  };
  app.registerHandler("/api/v1/auth/me", with_limiter(DeleteAccount), {drogon::Delete});
  app.registerHandler("/api/v1/auth/password", with_limiter(ChangePassword), {drogon::Post});
  app.registerHandler("/api/v1/tokens", OffTheLoop(context, ListTokens), {drogon::Get});
  app.registerHandler("/api/v1/tokens", OffTheLoop(context, CreateToken), {drogon::Post});
  app.registerHandler("/api/v1/tokens/{id}", OffTheLoop<std::string>(context, RevokeToken),
                      {drogon::Delete});
}

}  // namespace argus::api
