#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>

#include "common/repeated_messages.h"
#include "queue/queue.h"
#include "scaler/idle_cores.h"
#include "scaler/scaling_policy.h"
#include "scaler/worker_pool.h"

namespace argus::scaler {

struct TimedDecision {
  std::int64_t at_ms = 0;
  ScalingDecision decision;
};

// Workers that keep exiting right after they start (a model that cannot be loaded, a
// database that is away) are started again ever more slowly, not at every tick.
struct RestartBackoff {
  // A worker that exits unasked within this time of its start failed to start.
  std::chrono::milliseconds start_grace{10'000};
  // The wait after the second failed start in a row, doubled after each further one.
  std::chrono::milliseconds first_delay{500};
  std::chrono::milliseconds longest_delay{30'000};

  // How long to wait before the next start after `failed_starts` in a row: nothing after one.
  std::chrono::milliseconds DelayAfter(int failed_starts) const;
};

struct ScalerStatus {
  int desired = 0;
  int running = 0;
  int stopping = 0;
  std::vector<int> worker_pids;
  std::optional<queue::QueueStats> queue;  // as last read; none before the first read
  std::uint64_t crashes = 0;               // workers that exited without being asked to
  std::uint64_t stalls = 0;                // of them, killed for giving no heartbeat
  int failed_starts = 0;                   // in a row, up to now (see RestartBackoff)
  std::uint64_t scale_outs = 0;
  std::uint64_t scale_ins = 0;
  std::uint64_t scale_outs_held = 0;           // each stretch of held-back scale-outs counts once
  std::uint64_t restarts = 0;                  // scale-outs that only replaced crashed workers
  std::optional<double> idle_cores;            // over the last tick
  std::deque<TimedDecision> recent_decisions;  // newest last
};

// Follows the queue's depth (waiting plus in-flight jobs): each tick it reaps exited
// workers, measures the machine's idle cores, asks the policy for the desired count and
// resizes the pool. A crashed worker simply leaves the pool short, so the next tick starts
// a replacement (the cores it used are idle again).
class Scaler {
 public:
  Scaler(queue::Queue& queue, WorkerPool& pool, ScalingOptions options,
         std::chrono::milliseconds tick = std::chrono::milliseconds(250),
         RestartBackoff backoff = {});

  // Ticks until stop is requested, then stops every worker gracefully.
  void Run(const std::stop_token& stop);
  // From now on, starts workers only for jobs that wait: a stopping service still needs them
  // for its waiting clients, but one started to keep the minimum up would only be stopped.
  void Drain() { draining_ = true; }
  void Tick();
  ScalerStatus Status() const;

 private:
  // Kills the workers that gave no heartbeat for the stall timeout, and logs each.
  void KillStalled();

  queue::Queue& queue_;
  WorkerPool& pool_;
  ScalingPolicy policy_;
  IdleCoresMeter idle_cores_;
  bool holding_ = false;  // the last decision held a scale-out back
  std::chrono::milliseconds tick_;
  RestartBackoff backoff_;
  int failed_starts_ = 0;
  std::chrono::steady_clock::time_point last_failed_start_;
  std::chrono::steady_clock::time_point next_start_;   // not before: the back-off's wait
  bool delaying_ = false;                              // the last scale-out waited for it
  int crashed_unreplaced_ = 0;                         // crashed workers the pool still lacks
  std::optional<std::uint64_t> enqueued_total_;        // as last read
  RepeatedMessages errors_{std::chrono::seconds(30)};  // a tick's, four times a second
  std::atomic<bool> draining_ = false;
  mutable std::mutex mutex_;
  ScalerStatus status_;
};

}  // namespace argus::scaler
