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
#include "api/trusted_proxies.h"
#include "auth/attempt_limiter.h"
#include "common/ascii.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/utf8.h"

namespace argus::api {
namespace {

constexpr char kSessionCookie[] = "argus_session";
constexpr char kCsrfCookie[] = "argus_csrf";

// How long an account's deletion removes its photos before answering: proxies commonly give
// up on an answer after 60 s, and the removal's time grows with the gallery.
constexpr std::chrono::seconds kAccountRemovalTime(10);

// Per client address: 10 failed log-ins, 10 sign-ups, or 10 wrong passwords given to change
// the password or delete the account, a minute; then 429.
constexpr std::size_t kAttemptsPerWindow = 10;
constexpr std::chrono::seconds kAttemptWindow(60);
// Per account, from any addresses: 20 failed log-ins or wrong passwords in 15 minutes; then
// 429. Guessing spread over many addresses is slowed to that pace, at the cost that someone
// else's failures can keep the account's owner out for up to 15 minutes. Emails without an
// account count alike, so the answer never tells whether an account exists.
constexpr std::size_t kFailuresPerAccount = 20;
constexpr std::chrono::seconds kAccountWindow(15 * 60);

struct AttemptLimits {
  auth::AttemptLimiter per_address{kAttemptsPerWindow, kAttemptWindow};
  auth::AttemptLimiter per_account{kFailuresPerAccount, kAccountWindow};
};

Json::Value UserJson(const catalog::UserRecord& user) {
  Json::Value json(Json::objectValue);
  json["id"] = user.id;
  json["email"] = user.email;
  json["is_admin"] = user.is_admin;
  return json;
}

// Secure cookies when the client reached us over TLS, directly or through a proxy that says
// so (X-Forwarded-Proto, or Forwarded's proto=, in any case; the first proxy's word when
// several are listed). A client that claims it falsely only loses its own cookies.
bool OverTls(const HttpRequestPtr& request) {
  if (request->isOnSecureConnection()) return true;
  const std::string forwarded_proto = AsciiLowercase(request->getHeader("x-forwarded-proto"));
  if (TrimSpaces(std::string_view(forwarded_proto).substr(0, forwarded_proto.find(','))) ==
      "https") {
    return true;
  }
  const std::string forwarded = AsciiLowercase(request->getHeader("forwarded"));
  const std::string_view first = std::string_view(forwarded).substr(0, forwarded.find(','));
  return first.find("proto=https") != std::string_view::npos;
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

// Whether the body is sent as application/json. Drogon reads JSON from any media type that
// contains those words, "text/plain; charset=application/json" too; but a browser sends a
// cross-site request without asking the server first (a CORS preflight) only with the media
// type of a form or of text, so any website could sign its visitors up or log them in.
bool SentAsJson(const HttpRequestPtr& request) {
  const std::string& content_type = request->getHeader("content-type");
  const std::string_view media_type =
      TrimSpaces(std::string_view(content_type).substr(0, content_type.find(';')));
  return AsciiLowercase(media_type) == "application/json";
}

// The request's JSON body, or null when it has none or it is not sent as JSON. jsoncpp throws
// on a body nested deeper than its stack limit, which is JSON all the same, only not one to
// read: a null value.
std::shared_ptr<const Json::Value> JsonBodyOf(const HttpRequestPtr& request) {
  if (!SentAsJson(request)) return nullptr;
  auto json = std::make_shared<Json::Value>();
  try {
    // Read here: Drogon reads none from a media type in capitals.
    if (!ReadJson(request->body(), *json)) return nullptr;
  } catch (const std::exception&) {
    return std::make_shared<const Json::Value>();
  }
  return json;
}

// A JSON body that is an object, else null. Indexing any other JSON value throws.
std::shared_ptr<const Json::Value> JsonObjectOf(const HttpRequestPtr& request) {
  auto json = JsonBodyOf(request);
  return json && json->isObject() ? json : nullptr;
}

Result<std::pair<std::string, std::string>> CredentialsOf(const HttpRequestPtr& request) {
  const auto json = JsonObjectOf(request);
  if (json == nullptr || !(*json)["email"].isString() || !(*json)["password"].isString()) {
    return Fail(ErrorCode::kInvalidArgument,
                "send a JSON object with \"email\" and \"password\" strings");
  }
  std::string email = (*json)["email"].asString();
  std::string password = (*json)["password"].asString();
  // Checked before the attempt is counted against the email, whose limiter keeps it for
  // fifteen minutes: eleven log-ins with 20 MiB emails held 1.2 GB.
  if (email.size() > auth::kMaxEmailBytes) {
    return Fail(ErrorCode::kInvalidArgument, "enter a valid email address");
  }
  if (Utf8Characters(password) > auth::kMaxPasswordCharacters) {
    return Fail(ErrorCode::kInvalidArgument, "the password is longer than 1024 characters");
  }
  return std::pair{std::move(email), std::move(password)};
}

HttpResponsePtr SessionResponse(const HttpRequestPtr& request, const auth::NewSession& session,
                                drogon::HttpStatusCode status) {
  Json::Value body(Json::objectValue);
  body["user"] = UserJson(session.user);
  auto response = HttpResponse::newHttpJsonResponse(body);
  response->setStatusCode(status);
  // Rounded: the milliseconds spent since the session was made are no second less of it.
  const int max_age = static_cast<int>((session.expires_at_ms - NowMs() + 500) / 1000);
  SetSessionCookies(response, request, session.token, session.csrf_token, max_age);
  return response;
}

HttpResponsePtr TooManyAttempts(std::string_view from, std::chrono::seconds wait) {
  auto response =
      ErrorResponse(drogon::k429TooManyRequests, "rate_limited",
                    std::format("too many attempts {}; try again in {} s", from, wait.count()));
  response->addHeader("Retry-After", std::to_string(wait.count()));
  return response;
}

// An attempt counted against a client's address and, unless `account` is empty, an account,
// from its admission; its outcome decides whether it stays counted.
class CountedAttempt {
 public:
  // Refused, with the response to send, when either limit is reached. A refusal by the
  // address's limit counts nothing; one by the account's still counts against the address,
  // since guessing at an account that waits is guessing all the same.
  static std::expected<CountedAttempt, HttpResponsePtr> Admit(AttemptLimits& limits,
                                                              std::string client,
                                                              std::string account) {
    const auto now = auth::AttemptLimiter::Clock::now();
    client = ClientBlockOf(client);
    if (const auto wait = limits.per_address.Admit(client, now); wait.count() > 0) {
      return std::unexpected(TooManyAttempts("from this address", wait));
    }
    if (account.empty()) return CountedAttempt(limits, std::move(client), "", now);
    if (const auto wait = limits.per_account.Admit(account, now); wait.count() > 0) {
      return std::unexpected(TooManyAttempts("for this account", wait));
    }
    return CountedAttempt(limits, std::move(client), std::move(account), now);
  }

  void Forgive() const {
    limits_->per_address.Forgive(client_, admitted_at_);
    if (!account_.empty()) limits_->per_account.Forgive(account_, admitted_at_);
  }

 private:
  CountedAttempt(AttemptLimits& limits, std::string client, std::string account,
                 auth::AttemptLimiter::Clock::time_point admitted_at)
      : limits_(&limits),
        client_(std::move(client)),
        account_(std::move(account)),
        admitted_at_(admitted_at) {}

  AttemptLimits* limits_;
  std::string client_;
  std::string account_;
  auth::AttemptLimiter::Clock::time_point admitted_at_;
};

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

// The key of an account's log-in limit: its email, lowercased, and for an account, which
// password it has (a digest of its hash), so that failures against a password the operator
// has since replaced (argus accounts reset-password) do not keep the new one locked out. An
// email without an account is limited alike.
std::string AccountLimitKey(std::string_view email, std::string_view password_hash) {
  std::string key = AsciiLowercase(email);
  if (!password_hash.empty()) key += " " + Sha256Hex(password_hash).substr(0, 16);
  return key;
}

// A signed-in user's password, checked before a change of it or the account's deletion. The
// wrong ones count against the log-in limits: a session left open must not guess its way to
// the password. The response is the refusal to send, if any.
std::optional<HttpResponsePtr> RefuseWrongPassword(ApiContext& context, AttemptLimits& limits,
                                                   const HttpRequestPtr& request,
                                                   const catalog::UserRecord& user,
                                                   const std::function<Result<void>()>& check) {
  auto attempt =
      CountedAttempt::Admit(limits, ClientAddress(context.options.trusted_proxies, request),
                            AccountLimitKey(user.email, user.password_hash));
  if (!attempt) return attempt.error();
  auto checked = check();
  if (!checked && checked.error().code == ErrorCode::kNotFound) {
    return ErrorResponse(drogon::k403Forbidden, "wrong_password", checked.error().message);
  }
  attempt->Forgive();
  if (!checked) return ErrorResponse(checked.error());
  return std::nullopt;
}

// The strings `names` of a JSON object body, else a 400 naming them.
std::expected<std::vector<std::string>, HttpResponsePtr> StringsOf(
    const HttpRequestPtr& request, std::initializer_list<std::string_view> names) {
  const auto json = JsonObjectOf(request);
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

void ChangePassword(const std::shared_ptr<ApiContext>& context, AttemptLimits& limits,
                    const HttpRequestPtr& request, Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  auto passwords = StringsOf(request, {"current_password", "new_password"});
  if (!passwords) return callback(passwords.error());
  // The session that asked stays signed in; a request with an API token keeps none.
  const std::string session =
      principal->csrf_token.empty() ? "" : request->getCookie(kSessionCookie);
  if (auto refused = RefuseWrongPassword(*context, limits, request, principal->user, [&] {
        return context->accounts.ChangePassword(principal->user, (*passwords)[0], (*passwords)[1],
                                                session);
      })) {
    return callback(*refused);
  }
  callback(NoContentResponse());
}

void DeleteAccount(const std::shared_ptr<ApiContext>& context, AttemptLimits& limits,
                   const HttpRequestPtr& request, Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  auto password = StringsOf(request, {"password"});
  if (!password) return callback(password.error());
  const catalog::UserRecord& user = principal->user;
  if (auto refused = RefuseWrongPassword(*context, limits, request, user, [&] {
        return context->accounts.CheckPassword(user, (*password)[0]);
      })) {
    return callback(*refused);
  }
  // The account first: its uploads under way are then refused, so its photos stop coming.
  if (auto deleted = context->accounts.DeleteAccount(user); !deleted) {
    return callback(ErrorResponse(deleted.error()));
  }
  // What a failure leaves, or a gallery too large to remove within the time a client or its
  // proxy waits, the web tier's periodic sweep removes (RemovePhotosOfDeletedUsers); the
  // account is gone either way.
  const RemovalBounds bounds{.until = std::chrono::steady_clock::now() + kAccountRemovalTime};
  if (auto removed = context->RemoveImagesOf(user.id, bounds); !removed) {
    LogLine("error", "web",
            "account " + user.id +
                " deleted; its photos are removed later: " + removed.error().message);
  } else if (bounds.Reached()) {
    LogLine("info", "web",
            std::format("account {} deleted with {} of its photos; the others are removed by "
                        "the sweep of deleted accounts' photos",
                        user.id, *removed));
  } else {
    LogLine("info", "web", std::format("account {} deleted with its {} photos", user.id, *removed));
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
  const auto json = JsonBodyOf(request);
  if (json != nullptr && !json->isObject()) {
    return callback(ErrorResponse(drogon::k400BadRequest, "invalid_argument",
                                  "send a JSON object, e.g. {\"name\": \"laptop\"}"));
  }
  // A token that leaked could otherwise make copies of itself that outlive its revocation.
  if (principal->csrf_token.empty()) {
    return callback(ErrorResponse(drogon::k403Forbidden, "forbidden",
                                  "API tokens are made from a signed-in session (the web app's "
                                  "settings), not with another token"));
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
  auto limits = std::make_shared<AttemptLimits>();
  // Sign-up and log-in share their rate limit per address, their reading of the credentials
  // and their answer (a session cookie); each maps its own refusal onto a response that does
  // not reveal whether the account exists. `per_account`: the account's limit applies too;
  // `counts` says which outcomes count against the limits.
  auto credentials_route = [&app, context, limits](const std::string& path, const auto& attempt,
                                                   bool per_account, ErrorCode refused,
                                                   auto refusal, drogon::HttpStatusCode success,
                                                   auto counts) {
    auto handle = [limits, attempt, per_account, refused, refusal, success, counts](
                      const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                      Callback&& callback) {
      auto credentials = CredentialsOf(request);
      if (!credentials) return callback(ErrorResponse(credentials.error()));
      std::string account;
      if (per_account) {
        auto user = context->catalog.FindUserByEmail(credentials->first);
        account = AccountLimitKey(credentials->first, user ? user->password_hash : "");
      }
      auto admitted = CountedAttempt::Admit(
          *limits, ClientAddress(context->options.trusted_proxies, request), std::move(account));
      if (!admitted) return callback(admitted.error());
      auto session = attempt(credentials->first, credentials->second);
      if (!counts(session)) admitted->Forgive();
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
      false, ErrorCode::kConflict,
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
      true, ErrorCode::kNotFound,
      [] {
        return ErrorResponse(drogon::k401Unauthorized, "invalid_credentials",
                             "wrong email or password");
      },
      drogon::k200OK,
      [](const auto& outcome) { return !outcome && outcome.error().code == ErrorCode::kNotFound; });
  app.registerHandler("/api/v1/auth/logout", OffTheLoop(context, LogOut), {drogon::Post});
  app.registerHandler("/api/v1/auth/me", OffTheLoop(context, CurrentUser), {drogon::Get});
  // The routes that check a signed-in user's password share the log-in limits.
  auto with_limits = [&context, limits](auto handle) {
    return OffTheLoop(context,
                      [limits, handle](const std::shared_ptr<ApiContext>& context,
                                       const HttpRequestPtr& request, Callback&& callback) {
                        handle(context, *limits, request, std::move(callback));
                      });
  };
  app.registerHandler("/api/v1/auth/me", with_limits(DeleteAccount), {drogon::Delete});
  app.registerHandler("/api/v1/auth/password", with_limits(ChangePassword), {drogon::Post});
  app.registerHandler("/api/v1/tokens", OffTheLoop(context, ListTokens), {drogon::Get});
  app.registerHandler("/api/v1/tokens", OffTheLoop(context, CreateToken), {drogon::Post});
  app.registerHandler("/api/v1/tokens/{id}", OffTheLoop<std::string>(context, RevokeToken),
                      {drogon::Delete});
}

}  // namespace argus::api
