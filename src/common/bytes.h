#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace argus {

// The bytes of a text, for interfaces that take raw bytes (blob stores, hashing).
inline std::span<const std::byte> AsBytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace argus
