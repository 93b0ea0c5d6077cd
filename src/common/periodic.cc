#include "common/periodic.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

namespace argus {

Periodic::Periodic(std::chrono::milliseconds period, std::function<void()> task)
    : thread_([period = std::max(period, std::chrono::milliseconds(1)),
               task = std::move(task)](std::stop_token stop) {
        std::mutex mutex;
        std::condition_variable_any stopped;
        std::unique_lock lock(mutex);
        while (!stopped.wait_for(lock, stop, period, [&stop] { return stop.stop_requested(); })) {
          task();
        }
      }) {}

}  // namespace argus
