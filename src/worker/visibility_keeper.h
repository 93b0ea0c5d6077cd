#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "common/periodic.h"
#include "queue/queue.h"

namespace argus::worker {

// Extends the visibility of the messages a worker holds every `period`, so that a batch
// that runs long is not delivered to another worker meanwhile. One thread for the life of
// the worker, not one per batch. Extending a message that was acknowledged or released
// since fails harmlessly.
class VisibilityKeeper {
 public:
  // While alive, the messages given to Keep are extended.
  class Holding {
   public:
    explicit Holding(VisibilityKeeper& keeper) : keeper_(keeper) {}
    Holding(const Holding&) = delete;
    Holding& operator=(const Holding&) = delete;
    ~Holding() { keeper_.Hold({}); }

   private:
    VisibilityKeeper& keeper_;
  };

  VisibilityKeeper(queue::Queue& queue, std::chrono::milliseconds period);

  // Replaces the messages held so far by these, until the returned handle goes.
  [[nodiscard]] Holding Keep(std::vector<queue::Message> messages);

 private:
  void Hold(std::vector<queue::Message> messages);
  void ExtendHeld();

  queue::Queue& queue_;
  std::mutex mutex_;
  std::vector<queue::Message> held_;
  Periodic extender_;  // last: it stops before the rest is destroyed
};

}  // namespace argus::worker
