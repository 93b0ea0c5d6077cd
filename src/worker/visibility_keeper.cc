#include "worker/visibility_keeper.h"

namespace argus::worker {

VisibilityKeeper::VisibilityKeeper(queue::Queue& queue, std::chrono::milliseconds period)
    : queue_(queue), extender_(period, [this] { ExtendHeld(); }) {}

VisibilityKeeper::Holding VisibilityKeeper::Keep(std::vector<queue::Message> messages) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  held_.emplace(id, std::move(messages));
  return Holding(*this, id);
}

void VisibilityKeeper::Release(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  held_.erase(id);
}

void VisibilityKeeper::ExtendHeld() {
  std::vector<queue::Message> held;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, messages] : held_)
      held.insert(held.end(), messages.begin(), messages.end());
  }
  for (const queue::Message& message : held) (void)queue_.ExtendVisibility(message);
}

}  // namespace argus::worker
