#include "common/repeated_messages.h"

#include <algorithm>
#include <format>
#include <string_view>

namespace argus {
namespace {

// Messages remembered at most. Past it, those last written a period ago or more are
// forgotten (with the count of copies held back since, which then goes unsaid), and if that
// is not enough, all are.
constexpr std::size_t kMessagesRemembered = 256;

// The message with each run of 16 or more hexadecimal digits (an image's or a job's id, a
// content hash) as "#": every request meets the same failure of a store about its own object.
std::string ShapeOf(std::string_view message) {
  constexpr std::string_view kHexDigits = "0123456789abcdef";
  constexpr std::size_t kIdDigits = 16;
  std::string shape;
  shape.reserve(message.size());
  for (std::size_t i = 0; i < message.size();) {
    const std::size_t run = std::min(message.find_first_of(kHexDigits, i), message.size());
    shape.append(message.substr(i, run - i));
    const std::size_t end = std::min(message.find_first_not_of(kHexDigits, run), message.size());
    if (end - run >= kIdDigits) {
      shape += '#';
    } else {
      shape.append(message.substr(run, end - run));
    }
    i = end;
  }
  return shape;
}

}  // namespace

std::optional<std::uint64_t> RepeatedMessages::Admit(const std::string& message,
                                                     Clock::time_point now) {
  const std::string shape = ShapeOf(message);
  std::lock_guard lock(mutex_);
  if (seen_.size() >= kMessagesRemembered && !seen_.contains(shape)) {
    std::erase_if(seen_, [&](const auto& entry) { return now - entry.second.written >= period_; });
    if (seen_.size() >= kMessagesRemembered) seen_.clear();
  }
  auto [entry, first] = seen_.try_emplace(shape, Seen{.written = now});
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
