#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace argus::scaler {

struct ScalingOptions {
  int min_workers = 1;  // 0 allows scaling to zero when idle
  int max_workers = 2;
  // A backlog one running worker clears in about the time another takes to start (process,
  // model load, first batches: about half a second on a 2-core machine, where a warm worker
  // clears 150-250 jobs per second). Smaller bursts are over before a new worker could
  // help, and starting one takes CPU from those already working.
  std::uint64_t jobs_per_worker = 128;
  std::chrono::milliseconds scale_in_cooldown{30'000};
  // Workers beyond the first (and the minimum) are started only while at least this many
  // cores were idle over the last tick. Workers are CPU-bound: on a machine whose cores the
  // running workers and the web tier already keep busy, another one only takes CPU from
  // them and spends more on loading its model (a 500-image burst on two cores: 10 % slower
  // with a second worker). 0: demand alone decides.
  double scale_out_idle_cores = 1.0;
  // A worker that gives no heartbeat for this long is killed and replaced. It beats at least
  // every few hundred milliseconds while idle, working or waiting for a store that is down; a
  // single store request may take up to 10 s before it fails.
  std::chrono::milliseconds stall_timeout{30'000};
};

// kRestart is a scale-out that only replaces crashed workers: the scaler, which sees the
// crashes, tells it apart; the policy sees only a pool short of its size.
enum class ScalingAction : std::uint8_t { kHold, kScaleOut, kScaleIn, kScaleOutHeld, kRestart };
// "hold", "scale_out", "scale_in", "scale_out_held", "restart"
std::string_view ActionName(ScalingAction action);

struct ScalingDecision {
  ScalingAction action = ScalingAction::kHold;
  int from = 0;
  int to = 0;
  std::uint64_t depth = 0;
  int desired = 0;  // what the policy aims for (may differ from `to` while held or cooling down)
  std::string reason;
};

// desired = clamp(ceil(depth / jobs_per_worker), min, max). Scale out at once, as far as the
// idle cores allow (scale_out_idle_cores); scale in only after demand has stayed below the
// current size for the whole cooldown, so a pause between bursts does not stop workers that
// are about to be needed again. Work within the cooldown (jobs waiting, or arrived since the
// last decision even when they are done already and left no depth) keeps one running worker:
// light traffic served at once is not idleness, and scaling to zero in it would make the next
// photo wait for a worker to start.
class ScalingPolicy {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit ScalingPolicy(ScalingOptions options);

  // idle_cores: cores idle over the last tick; unknown, it does not hold a scale-out back.
  // arrived: jobs enqueued since the last decision.
  ScalingDecision Decide(std::uint64_t depth, int current, TimePoint now,
                         std::optional<double> idle_cores = std::nullopt,
                         std::uint64_t arrived = 0);
  int Desired(std::uint64_t depth) const;
  const ScalingOptions& options() const { return options_; }

 private:
  ScalingOptions options_;
  std::optional<TimePoint> below_since_;
  std::optional<TimePoint> last_work_;  // the last decision that saw jobs waiting or arrived
};

}  // namespace argus::scaler
