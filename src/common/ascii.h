#pragma once

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
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

// `text` with its ASCII letters in lower case, for names that ignore case: emails, paths,
// file extensions, HTTP parameters, option words, search terms.
inline std::string AsciiLowercase(std::string_view text) {
  std::string lower(text);
  std::ranges::transform(lower, lower.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// `text` without the spaces and tabs at either end.
inline std::string_view TrimSpaces(std::string_view text) {
  const std::size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace argus
