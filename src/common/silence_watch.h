#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace argus {

// A server can keep its connections open and stop answering (stopped, hung, or behind a
// network that drops packets). Each request sent to it waits for its own timeout, holding
// its caller: on the web tier an HTTP I/O thread, and so /healthz too. Once one request has
// gone unanswered, callers are to fail at once instead; meanwhile a thread of the watch
// probes the server, one probe at a time, and the first probe answered ends the silence.
// Used by the PostgreSQL catalog (db::SelectOneProbe), the NATS connection and the S3 client.
class SilenceWatch {
 public:
  // `probe` asks the server something small, within a bounded time, and says whether it
  // answered. The first probe comes `pause` after the silence is noted, and each failed one
  // is followed by another after `pause`.
  SilenceWatch(std::function<bool()> probe, std::chrono::milliseconds pause);
  SilenceWatch(const SilenceWatch&) = delete;
  SilenceWatch& operator=(const SilenceWatch&) = delete;
  // Waits for a probe in flight: the owner's destructor must end it quickly or bear its
  // wait.
  ~SilenceWatch();

  // Whether a request went unanswered and no probe has been answered since.
  bool silent() const { return silent_; }
  // A request got no answer within its wait.
  void NoteUnanswered();

 private:
  void ProbeWhileSilent(const std::stop_token& stop);

  const std::function<bool()> probe_;
  const std::chrono::milliseconds pause_;
  std::atomic<bool> silent_ = false;
  std::mutex mutex_;
  std::condition_variable_any noted_;
  std::jthread prober_;  // last: it uses the members above
};

}  // namespace argus
