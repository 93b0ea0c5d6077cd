#include "auth/secrets.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace argus::auth {
namespace {

TEST(SecretsTest, APasswordVerifiesAgainstItsHashAndNoOther) {
  auto hash = HashPassword("correct horse battery staple");
  ASSERT_TRUE(hash) << hash.error().message;
  EXPECT_TRUE(hash->starts_with("$argon2id$")) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  EXPECT_FALSE(VerifyPassword("not a hash", "correct horse battery staple"));
}

// Peak memory is measured in a process of its own (a death test re-runs this binary), so
// nothing else the tests did counts.
TEST(SecretsTest, ConcurrentHashesTakeAtMostACoresWorthOfMemoryEach) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  constexpr long kHashKiB = 64L * 1024;  // libsodium's interactive memory limit
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EXIT(
      {
        rusage before{};
        getrusage(RUSAGE_SELF, &before);
        std::vector<std::jthread> hashing;
        hashing.reserve(static_cast<std::size_t>(4 * cores));
        for (long i = 0; i < 4 * cores; ++i) {
          hashing.emplace_back([] { (void)HashPassword("burst of log-ins"); });
        }
        hashing.clear();
        rusage after{};
        getrusage(RUSAGE_SELF, &after);
        // Hashes at once: one per core, and a partial one for what the allocator keeps.
        std::exit(after.ru_maxrss - before.ru_maxrss < (cores + 1) * kHashKiB ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace argus::auth
