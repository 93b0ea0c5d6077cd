#include "worker/visibility_keeper.h"

#include <utility>

namespace argus::worker {

VisibilityKeeper::VisibilityKeeper(queue::Queue& queue, std::chrono::milliseconds period)
    : queue_(queue), extender_(period, [this] { ExtendHeld(); }) {}

VisibilityKeeper::Holding VisibilityKeeper::Keep(std::vector<queue::Message> messages) {
  Hold(std::move(messages));
  return Holding(*this);
}

void VisibilityKeeper::Hold(std::vector<queue::Message> messages) {
  std::lock_guard lock(mutex_);
  held_ = std::move(messages);
}

void VisibilityKeeper::ExtendHeld() {
  std::vector<queue::Message> held;
  {
    std::lock_guard lock(mutex_);
    held = held_;
  }
  for (const queue::Message& message : held) (void)queue_.ExtendVisibility(message);
}

}  // namespace argus::worker
