#include "common/sha256.h"

#include <sodium.h>

#include <format>

namespace argus {

std::string Sha256Hex(std::string_view bytes) {
  // Idempotent and thread-safe; picks the fastest implementation for this CPU.
  static const bool initialized = sodium_init() >= 0;
  (void)initialized;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char byte : digest) hex += std::format("{:02x}", byte);
  return hex;
}

}  // namespace argus
