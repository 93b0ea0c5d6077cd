#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace argus::worker {

// A one-slot channel between two stages of a pipeline: Put waits while the slot is full,
// Take while it is empty. After Close, Take still returns what was put, then nullopt.
template <typename T>
class Handoff {
 public:
  void Put(T value) {
    std::unique_lock lock(mutex_);
    emptied_.wait(lock, [this] { return !slot_.has_value(); });
    slot_.emplace(std::move(value));
    filled_.notify_one();
  }

  std::optional<T> Take() {
    std::unique_lock lock(mutex_);
    filled_.wait(lock, [this] { return slot_.has_value() || closed_; });
    std::optional<T> value = std::exchange(slot_, std::nullopt);
    emptied_.notify_one();
    return value;
  }

  void Close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    filled_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable filled_;
  std::condition_variable emptied_;
  std::optional<T> slot_;
  bool closed_ = false;
};

}  // namespace argus::worker
