#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace argus {

// The characters (Unicode code points) of UTF-8 text, as the web app counts them with
// [...text].length: the bytes that do not continue a character.
inline std::size_t Utf8Characters(std::string_view text) {
  return static_cast<std::size_t>(
      std::ranges::count_if(text, [](unsigned char byte) { return (byte & 0xC0) != 0x80; }));
}

}  // namespace argus
