#include "worker/heartbeat.h"

#include <sys/socket.h>

namespace argus::worker {

void Heartbeat::Beat() {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
  std::int64_t last = last_beat_ns_.load(std::memory_order_relaxed);
  if (now - last < std::chrono::nanoseconds(kInterval).count()) return;
  if (!last_beat_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  constexpr char kBeat = '.';
  (void)send(fd_, &kBeat, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace argus::worker
