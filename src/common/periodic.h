#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <thread>

namespace argus {

// Waits `pause`, or less when `stop` is requested meanwhile; false when it was.
bool PauseUnlessStopped(std::chrono::milliseconds pause, const std::stop_token& stop);

// Runs `task` every `period` (at least 1 ms) on a thread of its own, the first time one
// period after construction, until destroyed; destruction waits for a run in progress.
class Periodic {
 public:
  Periodic(std::chrono::milliseconds period, std::function<void()> task);
  // A task that may take long is given a token that asks it to stop when Periodic is
  // destroyed, so that the destruction need not wait for its end.
  Periodic(std::chrono::milliseconds period, std::function<void(const std::stop_token&)> task);

 private:
  std::jthread thread_;
};

}  // namespace argus
