#include "common/periodic.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <utility>

namespace argus {

bool PauseUnlessStopped(std::chrono::milliseconds pause, const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any stopped;
  std::unique_lock lock(mutex);
  return !stopped.wait_for(lock, stop, pause, [&stop] { return stop.stop_requested(); });
}

Periodic::Periodic(std::chrono::milliseconds period, std::function<void()> task)
    : Periodic(period, [task = std::move(task)](const std::stop_token&) { task(); }) {}

Periodic::Periodic(std::chrono::milliseconds period,
                   std::function<void(const std::stop_token&)> task)
    : thread_([period = std::max(period, std::chrono::milliseconds(1)),
               task = std::move(task)](const std::stop_token& stop) {
        while (PauseUnlessStopped(period, stop)) task(stop);
      }) {}

}  // namespace argus
