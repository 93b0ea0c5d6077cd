#include "auth/attempt_limiter.h"

#include <algorithm>
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

std::chrono::seconds AttemptLimiter::Admit(std::string_view client, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  ForgetIdleClients(now);
  auto& attempts = attempts_[std::string(client)];
  DropAged(attempts, now);
  if (attempts.size() < limit_) {
    attempts.push_back(now);
    return std::chrono::seconds(0);
  }
  // Rounded up: a client told to wait 0 s while refused would retry at once.
  return std::chrono::ceil<std::chrono::seconds>(attempts.front() + window_ - now);
}

void AttemptLimiter::Forgive(std::string_view client, Clock::time_point admitted_at) {
  std::lock_guard lock(mutex_);
  const auto found = attempts_.find(std::string(client));
  if (found == attempts_.end()) return;
  std::deque<Clock::time_point>& attempts = found->second;
  // Admission times only grow, so the attempt is found from the back.
  if (const auto attempt = std::find(attempts.rbegin(), attempts.rend(), admitted_at);
      attempt != attempts.rend()) {
    attempts.erase(std::next(attempt).base());
  }
}

std::size_t AttemptLimiter::tracked_clients() {
  std::lock_guard lock(mutex_);
  return attempts_.size();
}

}  // namespace argus::auth
