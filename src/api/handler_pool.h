#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

namespace trantor {
class ConcurrentTaskQueue;
}

namespace argus::api {

// Threads for the work of HTTP handlers that may block: on the catalog, the queue or the
// blob store, any of which may be a server that has stopped answering, or on a password
// hash. Run on an HTTP I/O loop, such work would hold every connection of that loop until it
// returned, /healthz and /metrics among them; run here, it holds one of these threads.
class HandlerPool {
 public:
  // Above `max_unfinished` pieces of work given by TryRun queued and running, TryRun refuses
  // more: under overload, requests the pool cannot start soon are shed rather than kept in
  // memory. Work given by Run is not counted there: it answers clients admitted before, and
  // the once-a-second re-check of more than `max_unfinished` waiting clients had every other
  // request refused 503 for tens of milliseconds each second.
  HandlerPool(std::size_t threads, std::size_t max_unfinished);
  // Lets the work queued and running finish.
  ~HandlerPool();

  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Runs `work` unless the pool has max_unfinished already; false then, `work` dropped.
  bool TryRun(std::function<void()> work);
  // Runs `work` whatever the backlog: for work that must not be dropped, such as answering a
  // client that waits.
  void Run(std::function<void()> work);

  // Whether all work given so far has returned, waiting for that until `deadline`.
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline);

  // Work queued and running: given by TryRun, as the backlog counts it; given by either.
  std::size_t tried_unfinished();
  std::size_t unfinished();
  std::size_t max_unfinished() const { return max_unfinished_; }

 private:
  void Start(std::function<void()> work, bool tried);  // counted already

  const std::size_t max_unfinished_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t unfinished_ = 0;
  std::size_t tried_unfinished_ = 0;
  std::unique_ptr<trantor::ConcurrentTaskQueue> threads_;
};

}  // namespace argus::api
