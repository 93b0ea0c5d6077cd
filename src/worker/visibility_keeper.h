#pragma once

#include <chrono>
#include <vector>

#include "common/periodic.h"
#include "queue/queue.h"

namespace argus::worker {

// While alive, extends the visibility of the messages in hand every `period`, so that a
// batch that runs long is not delivered to another worker meanwhile. Extending a message
// that was acknowledged or released since fails harmlessly.
class VisibilityKeeper {
 public:
  VisibilityKeeper(queue::Queue& queue, std::vector<queue::Message> messages,
                   std::chrono::milliseconds period)
      : extender_(period, [&queue, messages = std::move(messages)] {
          for (const queue::Message& message : messages) (void)queue.ExtendVisibility(message);
        }) {}

 private:
  Periodic extender_;
};

}  // namespace argus::worker
