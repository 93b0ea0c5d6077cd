#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace argus {

inline constexpr std::size_t kSha256Bytes = 32;
using Sha256Digest = std::array<unsigned char, kSha256Bytes>;

Sha256Digest Sha256(std::span<const std::byte> bytes);

// Lowercase hex of a digest.
std::string LowerHex(std::span<const unsigned char> digest);

// Lowercase hex sha256: image ids (content addresses), stored hashes of secrets, and S3's
// payload hashes.
std::string Sha256Hex(std::span<const std::byte> bytes);
std::string Sha256Hex(std::string_view text);

}  // namespace argus
