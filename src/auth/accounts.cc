#include "auth/accounts.h"

#include <algorithm>

#include "auth/secrets.h"
#include "common/clock.h"
#include "common/utf8.h"

namespace argus::auth {
namespace {

constexpr std::size_t kMinPasswordLength = 8;

Result<void> ValidatePassword(std::string_view password) {
  const std::size_t characters = Utf8Characters(password);
  if (characters < kMinPasswordLength) {
    return Fail(ErrorCode::kInvalidArgument, "the password needs at least 8 characters");
  }
  if (characters > kMaxPasswordCharacters) {
    return Fail(ErrorCode::kInvalidArgument, "the password is longer than 1024 characters");
  }
  return {};
}

// Spaces of any kind and invisible characters would let an email pass for another one (an
// administrator's with a zero-width space in it), and control characters reach the
// operator's terminal in `argus accounts list`.
Result<void> ValidateCredentials(std::string_view email, std::string_view password) {
  const auto at = email.find('@');
  if (email.size() > kMaxEmailBytes || at == std::string_view::npos || at == 0 ||
      at + 1 == email.size() || email.find('@', at + 1) != std::string_view::npos ||
      !IsUtf8(email) || HasSpaceControlOrFormat(email)) {
    return Fail(ErrorCode::kInvalidArgument, "enter a valid email address");
  }
  return ValidatePassword(password);
}

Error InvalidCredentials() { return Error{ErrorCode::kNotFound, "wrong email or password"}; }

}  // namespace

Accounts::Accounts(catalog::Catalog& catalog, std::chrono::hours session_lifetime)
    : catalog_(catalog),
      session_lifetime_(session_lifetime),
      decoy_hash_(HashPassword(NewSecret()).value_or("")) {}

Result<NewSession> Accounts::StartSession(const catalog::UserRecord& user) {
  NewSession session{
      .user = user,
      .token = NewSecret(),
      .csrf_token = NewSecret(),
      .expires_at_ms =
          NowMs() +
          std::chrono::duration_cast<std::chrono::milliseconds>(session_lifetime_).count()};
  if (auto created = catalog_.CreateSession(HashSecret(session.token), user.id, session.csrf_token,
                                            session.expires_at_ms);
      !created) {
    return std::unexpected(created.error());
  }
  return session;
}

Result<NewSession> Accounts::SignUp(std::string_view email, std::string_view password) {
  if (auto valid = ValidateCredentials(email, password); !valid) {
    return std::unexpected(valid.error());
  }
  auto hash = HashPassword(password);
  if (!hash) return std::unexpected(hash.error());
  auto user = catalog_.CreateUser(email, *hash, NowMs());
  if (!user) return std::unexpected(user.error());
  return StartSession(*user);
}

Result<NewSession> Accounts::LogIn(std::string_view email, std::string_view password) {
  auto user = catalog_.FindUserByEmail(email);
  if (!user) {
    if (user.error().code != ErrorCode::kNotFound) return std::unexpected(user.error());
    VerifyPassword(decoy_hash_, password);  // same work as for a real account
    return std::unexpected(InvalidCredentials());
  }
  if (!VerifyPassword(user->password_hash, password)) return std::unexpected(InvalidCredentials());
  return StartSession(*user);
}

Result<void> Accounts::LogOut(std::string_view session_token) {
  return catalog_.DeleteSession(HashSecret(session_token));
}

Result<void> Accounts::CheckPassword(const catalog::UserRecord& user, std::string_view password) {
  if (!VerifyPassword(user.password_hash, password)) {
    return Fail(ErrorCode::kNotFound, "the password is wrong");
  }
  return {};
}

Result<void> Accounts::ChangePassword(const catalog::UserRecord& user,
                                      std::string_view current_password,
                                      std::string_view new_password,
                                      std::string_view session_token) {
  if (auto checked = CheckPassword(user, current_password); !checked) return checked;
  if (auto valid = ValidatePassword(new_password); !valid) return valid;
  auto hash = HashPassword(new_password);
  if (!hash) return std::unexpected(hash.error());
  auto changed = catalog_.SetPasswordHash(user.id, user.password_hash, *hash,
                                          session_token.empty() ? "" : HashSecret(session_token));
  // Changed by another request since this one was authenticated: its check was of the old one.
  if (!changed && changed.error().code == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound, "the password is wrong");
  }
  return changed;
}

Result<void> Accounts::DeleteAccount(const catalog::UserRecord& user) {
  if (user.is_admin) {
    auto users = catalog_.ListUsers();
    if (!users) return std::unexpected(users.error());
    if (std::ranges::count_if(*users, &catalog::UserRecord::is_admin) <= 1) {
      return Fail(ErrorCode::kConflict,
                  "you are the only administrator: make another account one first, with "
                  "argus accounts make-admin EMAIL on the server");
    }
  }
  return catalog_.DeleteUser(user.id);
}

Result<Accounts::Reset> Accounts::ResetPassword(std::string_view email, bool keep_tokens) {
  auto user = catalog_.FindUserByEmail(email);
  if (!user) return std::unexpected(user.error());
  // 20 characters of a secret's 43: 120 random bits, short enough to type.
  constexpr std::size_t kResetPasswordLength = 20;
  Reset reset{.password = NewSecret().substr(0, kResetPasswordLength)};
  auto hash = HashPassword(reset.password);
  if (!hash) return std::unexpected(hash.error());
  // The sessions end first, so that none can make a token after the tokens are revoked.
  if (auto set = catalog_.SetPasswordHash(user->id, user->password_hash, *hash, ""); !set) {
    return std::unexpected(set.error());
  }
  if (keep_tokens) return reset;
  auto tokens = catalog_.ListApiTokens(user->id);
  if (!tokens) return std::unexpected(tokens.error());
  for (const catalog::TokenRecord& token : *tokens) {
    auto revoked = catalog_.RevokeApiToken(user->id, token.id);
    if (!revoked && revoked.error().code != ErrorCode::kNotFound) {
      return std::unexpected(revoked.error());
    }
    reset.tokens_revoked += revoked ? 1 : 0;
  }
  return reset;
}

Result<catalog::UserRecord> Accounts::MakeAdmin(std::string_view email) {
  auto user = catalog_.FindUserByEmail(email);
  if (!user) return std::unexpected(user.error());
  if (auto made = catalog_.MakeAdmin(user->id); !made) return std::unexpected(made.error());
  user->is_admin = true;
  return user;
}

Result<std::optional<Principal>> Accounts::Authenticate(std::string_view session_token,
                                                        std::string_view bearer_token) {
  if (!bearer_token.empty()) {
    auto user = catalog_.FindUserByApiToken(HashSecret(bearer_token), NowMs());
    if (!user) return std::unexpected(user.error());
    return Principal{.user = std::move(*user)};
  }
  if (!session_token.empty()) {
    auto session = catalog_.FindSession(HashSecret(session_token), NowMs());
    if (!session) return std::unexpected(session.error());
    return Principal{.user = std::move(session->user), .csrf_token = session->csrf_token};
  }
  return std::nullopt;
}

Result<NewApiToken> Accounts::CreateApiToken(const catalog::UserRecord& user,
                                             std::string_view name) {
  const std::size_t characters = Utf8Characters(name);
  // A name is what tells the tokens apart in a list: not blank, and on one line.
  const bool blank = name.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
  const bool control = std::ranges::any_of(
      name, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7F'; });
  if (characters > 100 || blank || control) {
    return Fail(ErrorCode::kInvalidArgument,
                "a token needs a name of 1 to 100 characters, not only spaces, on one line");
  }
  NewApiToken token{.token = "argus_" + NewSecret()};
  auto record = catalog_.CreateApiToken(user.id, name, HashSecret(token.token), NowMs());
  if (!record) return std::unexpected(record.error());
  token.record = std::move(*record);
  return token;
}

Result<std::vector<catalog::TokenRecord>> Accounts::ListApiTokens(const catalog::UserRecord& user) {
  return catalog_.ListApiTokens(user.id);
}

Result<void> Accounts::RevokeApiToken(const catalog::UserRecord& user, std::string_view token_id) {
  return catalog_.RevokeApiToken(user.id, token_id);
}

}  // namespace argus::auth
