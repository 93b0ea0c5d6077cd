#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace argus {

// Lets a message through the first time and then at most once a `period`, with the number of
// times it was held back meanwhile: for the failures every request or tick meets while a
// store is down, which would otherwise fill the log with hundreds of copies a second.
// Messages that differ only in runs of 16 or more hexadecimal digits (the ids of the objects
// each request was about) count as copies of one another.
class RepeatedMessages {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RepeatedMessages(std::chrono::milliseconds period) : period_(period) {}

  // nullopt: hold `message` back; otherwise write it, saying how many copies were held back
  // since it was last written.
  std::optional<std::uint64_t> Admit(const std::string& message,
                                     Clock::time_point now = Clock::now());

 private:
  struct Seen {
    Clock::time_point written;
    std::uint64_t held_back = 0;
  };

  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::unordered_map<std::string, Seen> seen_;
};

// A message Admit let through, as logged: with the number of copies held back, if any.
std::string WithCopiesHeldBack(const std::string& message, std::uint64_t held_back);

}  // namespace argus
