#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/error.h"

namespace argus::auth {

// Who a request acts for.
struct Principal {
  catalog::UserRecord user;
  // Set when the request was authenticated by the session cookie: state-changing requests
  // must then echo it (double-submit CSRF protection). Empty for bearer tokens, which a
  // browser never sends on its own.
  std::string csrf_token;
};

struct NewSession {
  catalog::UserRecord user;
  std::string token;  // the cookie value
  std::string csrf_token;
  std::int64_t expires_at_ms = 0;
};

struct NewApiToken {
  catalog::TokenRecord record;
  std::string token;  // shown once
};

// No account has a longer email or password: sign-up refuses them, so log-in may too before
// it counts the attempt against the email.
inline constexpr std::size_t kMaxEmailBytes = 254;
inline constexpr std::size_t kMaxPasswordCharacters = 1024;

// Sign-up, log-in and API tokens on top of the catalog's account tables.
class Accounts {
 public:
  explicit Accounts(catalog::Catalog& catalog,
                    std::chrono::hours session_lifetime = std::chrono::hours(24 * 14));

  // kInvalidArgument for a malformed email or a password under 8 characters; kConflict
  // when the email is taken.
  Result<NewSession> SignUp(std::string_view email, std::string_view password);
  // Any wrong email or password is the same kNotFound, after the same amount of work, so
  // the answer does not reveal whether an account exists.
  Result<NewSession> LogIn(std::string_view email, std::string_view password);
  Result<void> LogOut(std::string_view session_token);

  // kNotFound when `password` is not the user's.
  Result<void> CheckPassword(const catalog::UserRecord& user, std::string_view password);
  // Checks the current password, then sets the new one (sign-up's rules: kInvalidArgument) and
  // ends the user's other sessions; the session of `session_token` (empty for a request with
  // an API token) stays signed in. kNotFound for a wrong current password.
  Result<void> ChangePassword(const catalog::UserRecord& user, std::string_view current_password,
                              std::string_view new_password, std::string_view session_token);
  // The account with its sessions and API tokens; its uploads are the caller's to remove first.
  // kConflict for the only administrator, whose going would leave the service without one.
  Result<void> DeleteAccount(const catalog::UserRecord& user);
  // For a user who forgot the password (or whose account was taken over), on the operator's
  // word: a new random password, to hand over and change after logging in, every session
  // ended and, unless `keep_tokens`, every API token revoked, since a stolen session could
  // have made one. kNotFound for an unknown email.
  struct Reset {
    std::string password;
    std::size_t tokens_revoked = 0;
  };
  Result<Reset> ResetPassword(std::string_view email, bool keep_tokens);
  // On the operator's word. kNotFound for an unknown email.
  Result<catalog::UserRecord> MakeAdmin(std::string_view email);

  // nullopt: no credentials presented. kNotFound: credentials presented but not valid.
  Result<std::optional<Principal>> Authenticate(std::string_view session_token,
                                                std::string_view bearer_token);

  Result<NewApiToken> CreateApiToken(const catalog::UserRecord& user, std::string_view name);
  Result<std::vector<catalog::TokenRecord>> ListApiTokens(const catalog::UserRecord& user);
  Result<void> RevokeApiToken(const catalog::UserRecord& user, std::string_view token_id);

 private:
  Result<NewSession> StartSession(const catalog::UserRecord& user);

  catalog::Catalog& catalog_;
  std::chrono::hours session_lifetime_;
  std::string decoy_hash_;  // verified against when the email is unknown
};

}  // namespace argus::auth
