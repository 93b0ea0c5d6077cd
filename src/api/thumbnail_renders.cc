#include "api/thumbnail_renders.h"

#include <malloc.h>

#include <utility>

namespace argus::api {
namespace {

constexpr std::size_t kFailuresKept = 1024;

}  // namespace

bool ThumbnailRenders::IsLasting(const Error& error) {
  return error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kUnsupportedMedia ||
         error.code == ErrorCode::kTooLarge;
}

Result<ThumbnailRenders::Bytes> ThumbnailRenders::Get(const std::string& id, const Render& render) {
  std::promise<Result<Bytes>> promise;
  std::unique_lock lock(mutex_);
  if (auto failed = failed_.find(id); failed != failed_.end()) {
    return std::unexpected(failed->second);
  }
  if (auto running = in_flight_.find(id); running != in_flight_.end()) {
    const std::shared_future<Result<Bytes>> shared = running->second;
    lock.unlock();
    return shared.get();
  }
  in_flight_.emplace(id, promise.get_future().share());
  lock.unlock();
  Result<Bytes> result = [&] {
    std::lock_guard one_at_a_time(rendering_);
    Result<Bytes> rendered = render();
    // The decoded pixels went back to malloc; without this the process keeps them.
    ::malloc_trim(0);
    return rendered;
  }();
  promise.set_value(result);
  lock.lock();
  in_flight_.erase(id);
  if (!result && IsLasting(result.error()) && failed_.emplace(id, result.error()).second) {
    failed_order_.push_back(id);
    if (failed_order_.size() > kFailuresKept) {
      failed_.erase(failed_order_.front());
      failed_order_.pop_front();
    }
  }
  return result;
}

}  // namespace argus::api
