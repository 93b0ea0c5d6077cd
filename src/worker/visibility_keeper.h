#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/periodic.h"
#include "queue/queue.h"

namespace argus::worker {

// Extends the visibility of the messages a worker holds every `period`, so that a batch
// that runs long is not delivered to another worker meanwhile. One thread for the life of
// the worker, not one per batch; a pipelined worker holds up to one batch in each of its
// stages. Extending a message that was acknowledged or released since fails harmlessly.
class VisibilityKeeper {
 public:
  // While alive, the messages given to Keep are extended.
  class Holding {
   public:
    Holding(VisibilityKeeper& keeper, std::uint64_t id) : keeper_(&keeper), id_(id) {}
    Holding(Holding&& other) noexcept
        : keeper_(std::exchange(other.keeper_, nullptr)), id_(other.id_) {}
    Holding& operator=(Holding&&) = delete;
    ~Holding() {
      if (keeper_ != nullptr) keeper_->Release(id_);
    }

   private:
    VisibilityKeeper* keeper_;
    std::uint64_t id_;
  };

  VisibilityKeeper(queue::Queue& queue, std::chrono::milliseconds period);

  // Adds these messages to the ones held, until the returned handle goes.
  [[nodiscard]] Holding Keep(std::vector<queue::Message> messages);

 private:
  void Release(std::uint64_t id);
  void ExtendHeld();

  queue::Queue& queue_;
  std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::vector<queue::Message>> held_;
  Periodic extender_;  // last: it stops before the rest is destroyed
};

}  // namespace argus::worker
