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
  explicit HandlerPool(std::size_t threads);
  // Lets the work queued and running finish.
  ~HandlerPool();

  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void Run(std::function<void()> work);

  // Whether all work given so far has returned, waiting for that until `deadline`.
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline);

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t unfinished_ = 0;
  std::unique_ptr<trantor::ConcurrentTaskQueue> threads_;
};

}  // namespace argus::api
