#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace argus::worker {

// A worker's sign of life to the scaler that started it, which kills and replaces a worker
// that has given none for its stall timeout (scaler::WorkerPool): a worker that hangs, in a
// decoder or a deadlock, would otherwise hold its jobs and its place in the pool for good.
// The worker beats at every step of its work and while it waits for jobs or for a store that
// is down, so silence means it is stuck. Beats go as a byte on a socket the scaler holds the
// other end of, at most one every kInterval; a full socket or a scaler gone drops them.
// Thread-safe.
class Heartbeat {
 public:
  static constexpr std::chrono::milliseconds kInterval{100};

  explicit Heartbeat(int fd) : fd_(fd) {}

  void Beat();

 private:
  const int fd_;
  std::atomic<std::int64_t> last_beat_ns_{0};
};

}  // namespace argus::worker
