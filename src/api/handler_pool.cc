#include "api/handler_pool.h"

#include <trantor/utils/ConcurrentTaskQueue.h>

#include <cassert>
#include <utility>

namespace argus::api {

HandlerPool::HandlerPool(std::size_t threads, std::size_t max_unfinished)
    : max_unfinished_(max_unfinished),
      threads_(std::make_unique<trantor::ConcurrentTaskQueue>(threads, "handlers")) {
  assert(threads > 0 && max_unfinished >= threads);
}

HandlerPool::~HandlerPool() {
  // The task queue drops what is still queued when it stops.
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return unfinished_ == 0; });
}

bool HandlerPool::TryRun(std::function<void()> work) {
  {
    const std::lock_guard lock(mutex_);
    if (tried_unfinished_ >= max_unfinished_) return false;
    ++tried_unfinished_;
    ++unfinished_;
  }
  Start(std::move(work), /*tried=*/true);
  return true;
}

void HandlerPool::Run(std::function<void()> work) {
  {
    const std::lock_guard lock(mutex_);
    ++unfinished_;
  }
  Start(std::move(work), /*tried=*/false);
}

void HandlerPool::Start(std::function<void()> work, bool tried) {
  threads_->runTaskInQueue([this, work = std::move(work), tried] {
    work();
    const std::lock_guard lock(mutex_);
    if (tried) --tried_unfinished_;
    if (--unfinished_ == 0) idle_.notify_all();
  });
}

std::size_t HandlerPool::tried_unfinished() {
  const std::lock_guard lock(mutex_);
  return tried_unfinished_;
}

std::size_t HandlerPool::unfinished() {
  const std::lock_guard lock(mutex_);
  return unfinished_;
}

bool HandlerPool::WaitUntilIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_.wait_until(lock, deadline, [this] { return unfinished_ == 0; });
}

}  // namespace argus::api
