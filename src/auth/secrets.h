#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::auth {

// 256 random bits, URL-safe base64, for session cookies, CSRF tokens and API tokens.
std::string NewSecret();

// What the catalog stores instead of a secret: its sha256, hex. A stolen table opens
// nothing, and lookups stay exact-match.
std::string HashSecret(std::string_view secret);

// argon2id (libsodium's interactive limits) in its self-describing string form.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace argus::auth
