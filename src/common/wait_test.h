#pragma once

// Test-only: waiting for what another thread or process brings about.

#include <chrono>
#include <thread>

namespace argus {

// Whether `condition()` came true within `limit`, asked every `interval`.
template <typename Condition>
bool WaitUntil(Condition condition, std::chrono::milliseconds limit,
               std::chrono::milliseconds interval = std::chrono::milliseconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
  return true;
}

}  // namespace argus
