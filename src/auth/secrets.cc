#include "auth/secrets.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <semaphore>
#include <thread>

#include "common/sha256.h"

namespace argus::auth {
namespace {

void InitializeSodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no secure randomness: nothing can be issued safely
  });
}

// An argon2id hash holds 64 MiB (the interactive limit) while it runs, and more hashes at once
// than cores finish no sooner: the others wait, so a burst of sign-ups and log-ins on the
// web tier's handler threads takes a core's worth of memory each, not a thread's.
class HashingSlot {
 public:
  HashingSlot() { Slots().acquire(); }
  ~HashingSlot() { Slots().release(); }
  HashingSlot(const HashingSlot&) = delete;
  HashingSlot& operator=(const HashingSlot&) = delete;

 private:
  static std::counting_semaphore<>& Slots() {
    static std::counting_semaphore<> slots(
        static_cast<std::ptrdiff_t>(std::max(1u, std::thread::hardware_concurrency())));
    return slots;
  }
};

}  // namespace

std::string NewSecret() {
  InitializeSodium();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char text[sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

std::string HashSecret(std::string_view secret) { return Sha256Hex(secret); }

Result<std::string> HashPassword(std::string_view password) {
  InitializeSodium();
  const HashingSlot slot;
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ErrorCode::kUnavailable, "not enough memory to hash the password");
  }
  return std::string(hash);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  InitializeSodium();
  const HashingSlot slot;
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

}  // namespace argus::auth
