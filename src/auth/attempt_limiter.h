#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace argus::auth {

// Counts attempts per client (a network address) over a sliding window: a client with
// `limit` attempts in the last `window` waits until the oldest of them leaves the window.
// The caller decides what counts: failed log-ins only, so a person who logs in often is
// never locked out, and every sign-up. Clients whose attempts have all aged out are
// forgotten, so the table stays as small as the window's traffic. Thread-safe.
class AttemptLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  AttemptLimiter(std::size_t limit, std::chrono::seconds window);

  // How long `client` must wait before its next attempt; zero when it may try now.
  std::chrono::seconds WaitFor(std::string_view client, Clock::time_point now);
  void Record(std::string_view client, Clock::time_point now);

  std::size_t tracked_clients();

 private:
  void DropAged(std::deque<Clock::time_point>& attempts, Clock::time_point now) const;
  void ForgetIdleClients(Clock::time_point now);

  const std::size_t limit_;
  const std::chrono::seconds window_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> attempts_;
  Clock::time_point next_sweep_{};
};

}  // namespace argus::auth
