#include "api/api_context.h"

#include <drogon/HttpRequest.h>

namespace argus::api {

Result<queue::QueueStats> ApiContext::QueueStats() {
  std::lock_guard lock(stats_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - stats_time_ > std::chrono::milliseconds(100)) {
    auto stats = queue.Stats();
    if (!stats) return stats;
    stats_ = *stats;
    stats_time_ = now;
  }
  return stats_;
}

std::string OwnerOf(const drogon::HttpRequestPtr&) { return ""; }

}  // namespace argus::api
