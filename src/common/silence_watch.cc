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
  while (!stop.stop_requested()) {
    noted_.wait(lock, stop, [this] { return silent_.load(); });
    // Each probe comes a pause after the silence was noted or the last probe failed, so an
    // owner that gives up right after its failed request is not held up by a probe.
    noted_.wait_for(lock, stop, pause_, [] { return false; });
    if (stop.stop_requested()) return;
    lock.unlock();
    const bool answered = probe_();
    lock.lock();
    if (answered) silent_ = false;
  }
}

}  // namespace argus
