#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace argus {

bool IsUtf8(std::string_view text);
// `text` with each byte that is not part of a UTF-8 character replaced by U+FFFD.
std::string MadeUtf8(std::string_view text);
// Whether `text`, which must be UTF-8 (IsUtf8), has a character that shows as nothing or moves
// others: a space of any kind, a control character, or a format character (zero-width,
// bidirectional overrides).
bool HasSpaceControlOrFormat(std::string_view text);

// The characters (Unicode code points) of UTF-8 text, as the web app counts them with
// [...text].length: the bytes that do not continue a character.
inline std::size_t Utf8Characters(std::string_view text) {
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](unsigned char byte) { return (byte & 0xC0) != 0x80; }));
}

}  // namespace argus
