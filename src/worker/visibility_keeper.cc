#include "worker/visibility_keeper.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace argus::worker {

VisibilityKeeper::VisibilityKeeper(queue::Queue& queue, std::vector<queue::Message> messages,
                                   std::chrono::milliseconds period)
    : thread_([&queue, messages = std::move(messages),
               period = std::max(period, std::chrono::milliseconds(1))](std::stop_token stop) {
        std::mutex mutex;
        std::condition_variable_any stopped;
        std::unique_lock lock(mutex);
        while (!stopped.wait_for(lock, stop, period, [&stop] { return stop.stop_requested(); })) {
          for (const queue::Message& message : messages) (void)queue.ExtendVisibility(message);
        }
      }) {}

}  // namespace argus::worker
