#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace argus {

// Base64 (RFC 4648, section 4) with padding: the exact bytes of a name that is not UTF-8.
std::string Base64(std::string_view bytes);

// base64url (RFC 4648, section 5) without padding: tokens and cursors in URLs.
std::string Base64Url(std::string_view bytes);
// nullopt for text that is not canonical base64url without padding.
std::optional<std::string> FromBase64Url(std::string_view text);

}  // namespace argus
