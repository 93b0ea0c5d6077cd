#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace argus {

// Whether `text` starts with `lower_prefix` (lower-case ASCII) in any case: HTTP's scheme and
// media-type names are case-insensitive.
inline bool StartsWithIgnoringCase(std::string_view text, std::string_view lower_prefix) {
  return text.size() >= lower_prefix.size() &&
         std::ranges::equal(text.substr(0, lower_prefix.size()), lower_prefix, [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace argus
