#include "common/silence_watch.h"

#include <utility>

namespace argus {

SilenceWatch::SilenceWatch(std::function<bool()> probe, std::chrono::milliseconds pause)
    : probe_(std::move(probe)),
      pause_(pause),
      prober_([this](const std::stop_token& stop) { ProbeWhileSilent(stop); }) {}

SilenceWatch::~SilenceWatch() {
  prober_.request_stop();
  prober_.join();
}

void SilenceWatch::NoteUnanswered() {
  {
    std::lock_guard lock(mutex_);
    silent_ = true;
  }
  noted_.notify_one();
}

void SilenceWatch::ProbeWhileSilent(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (noted_.wait(lock, stop, [this] { return silent_.load(); })) {
    lock.unlock();
    const bool answered = probe_();
    lock.lock();
    if (answered) {
      silent_ = false;
    } else {
      noted_.wait_for(lock, stop, pause_, [] { return false; });
    }
  }
}

}  // namespace argus
