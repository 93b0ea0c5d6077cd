#include "scaler/scaling_policy.h"

#include <algorithm>
#include <format>

namespace argus::scaler {

std::string_view ActionName(ScalingAction action) {
  switch (action) {
    case ScalingAction::kHold:
      return "hold";
    case ScalingAction::kScaleOut:
      return "scale_out";
    case ScalingAction::kScaleIn:
      return "scale_in";
    case ScalingAction::kScaleOutHeld:
      return "scale_out_held";
  }
  return "hold";
}

ScalingPolicy::ScalingPolicy(ScalingOptions options) : options_(options) {
  options_.min_workers = std::max(0, options_.min_workers);
  options_.max_workers = std::max(options_.min_workers, options_.max_workers);
  options_.jobs_per_worker = std::max<std::uint64_t>(1, options_.jobs_per_worker);
  options_.scale_out_idle_cores = std::max(0.0, options_.scale_out_idle_cores);
}

int ScalingPolicy::Desired(std::uint64_t depth) const {
  const std::uint64_t needed = (depth + options_.jobs_per_worker - 1) / options_.jobs_per_worker;
  return static_cast<int>(
      std::clamp<std::uint64_t>(needed, static_cast<std::uint64_t>(options_.min_workers),
                                static_cast<std::uint64_t>(options_.max_workers)));
}

ScalingDecision ScalingPolicy::Decide(std::uint64_t depth, int current, TimePoint now,
                                      std::optional<double> idle_cores) {
  const int desired = Desired(depth);
  ScalingDecision decision{.from = current, .to = current, .depth = depth};
  if (desired > current) {
    below_since_.reset();
    // The minimum, and a first worker for waiting jobs, are started whatever the load.
    const int unconditional = std::min(desired, std::max(options_.min_workers, 1));
    const bool cores_busy = idle_cores && *idle_cores < options_.scale_out_idle_cores;
    if (cores_busy && current >= unconditional) {
      decision.action = ScalingAction::kScaleOutHeld;
      decision.reason = std::format(
          "{} jobs need {} workers, but only {:.1f} cores were idle (a new worker needs {:.1f})",
          depth, desired, idle_cores.value_or(0.0), options_.scale_out_idle_cores);
      return decision;
    }
    decision.action = ScalingAction::kScaleOut;
    decision.to = cores_busy ? unconditional : desired;
    decision.reason = current < options_.min_workers
                          ? std::format("below the minimum of {} workers", options_.min_workers)
                          : std::format("{} jobs need {} workers at {} jobs each", depth, desired,
                                        options_.jobs_per_worker);
    if (decision.to < desired) {
      decision.reason += std::format(" ({} for now: only {:.1f} cores were idle)", decision.to,
                                     idle_cores.value_or(0.0));
    }
    return decision;
  }
  if (desired == current) {
    below_since_.reset();
    return decision;
  }
  if (!below_since_) below_since_ = now;
  if (now - *below_since_ < options_.scale_in_cooldown) return decision;
  below_since_.reset();
  decision.action = ScalingAction::kScaleIn;
  decision.to = desired;
  decision.reason =
      desired == 0
          ? std::string("idle for the whole cooldown: scaling to zero")
          : std::format("{} jobs need only {} workers for the whole cooldown", depth, desired);
  return decision;
}

}  // namespace argus::scaler
