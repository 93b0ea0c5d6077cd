#include "common/repeated_messages.h"

#include <format>

namespace argus {
namespace {

// Messages remembered at most. Past it, those last written a period ago or more are
// forgotten (with the count of copies held back since, which then goes unsaid), and if that
// is not enough, all are.
constexpr std::size_t kMessagesRemembered = 256;

}  // namespace

std::optional<std::uint64_t> RepeatedMessages::Admit(const std::string& message,
                                                     Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (seen_.size() >= kMessagesRemembered && !seen_.contains(message)) {
    std::erase_if(seen_, [&](const auto& entry) { return now - entry.second.written >= period_; });
    if (seen_.size() >= kMessagesRemembered) seen_.clear();
  }
  auto [entry, first] = seen_.try_emplace(message, Seen{.written = now});
  if (first) return 0;
  Seen& seen = entry->second;
  if (now - seen.written < period_) {
    ++seen.held_back;
    return std::nullopt;
  }
  const std::uint64_t held_back = seen.held_back;
  seen = Seen{.written = now};
  return held_back;
}

std::string WithCopiesHeldBack(const std::string& message, std::uint64_t held_back) {
  if (held_back == 0) return message;
  return std::format("{} (and {} more times since it was last logged)", message, held_back);
}

}  // namespace argus
