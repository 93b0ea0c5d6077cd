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
// An attempt counts from the moment it is admitted, so that concurrent attempts cannot all
// pass one check; the caller forgives those whose outcome does not count: a successful
// log-in, so a person who logs in often is never locked out. Clients whose attempts have
// all aged out are forgotten, so the table stays as small as the window's traffic.
// Thread-safe.
class AttemptLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  AttemptLimiter(std::size_t limit, std::chrono::seconds window);

  // Zero when `client` may try now, the attempt then being counted; otherwise how long it
  // must wait, nothing being counted.
  std::chrono::seconds Admit(std::string_view client, Clock::time_point now);
  // Takes back the attempt admitted at `admitted_at`.
  void Forgive(std::string_view client, Clock::time_point admitted_at);

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
