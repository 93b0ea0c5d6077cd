#include "auth/attempt_limiter.h"

#include <cassert>
#include <iterator>

namespace argus::auth {

AttemptLimiter::AttemptLimiter(std::size_t limit, std::chrono::seconds window)
    : limit_(limit), window_(window) {
  assert(limit > 0 && window.count() > 0);
}

void AttemptLimiter::DropAged(std::deque<Clock::time_point>& attempts,
                              Clock::time_point now) const {
  while (!attempts.empty() && attempts.front() + window_ <= now) attempts.pop_front();
}

// One pass over the table per window: each client's attempts are dropped at most one
// window after they aged out.
void AttemptLimiter::ForgetIdleClients(Clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + window_;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    DropAged(it->second, now);
    it = it->second.empty() ? attempts_.erase(it) : std::next(it);
  }
}

std::chrono::seconds AttemptLimiter::WaitFor(std::string_view client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  ForgetIdleClients(now);
  const auto found = attempts_.find(std::string(client));
  if (found == attempts_.end()) return std::chrono::seconds(0);
  DropAged(found->second, now);
  if (found->second.size() < limit_) return std::chrono::seconds(0);
  // Rounded up: a client told to wait 0 s while refused would retry at once.
  const auto until_oldest_ages_out = found->second.front() + window_ - now;
  return std::chrono::ceil<std::chrono::seconds>(until_oldest_ages_out);
}

void AttemptLimiter::Record(std::string_view client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  ForgetIdleClients(now);
  auto& attempts = attempts_[std::string(client)];
  DropAged(attempts, now);
  attempts.push_back(now);
}

std::size_t AttemptLimiter::tracked_clients() {
  std::lock_guard lock(mutex_);
  return attempts_.size();
}

}  // namespace argus::auth
