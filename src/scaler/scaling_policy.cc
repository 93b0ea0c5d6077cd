#include "scaler/scaling_policy.h"

#include <algorithm>
#include <format>
#include <string>
#include <string_view>

namespace argus::scaler {
namespace {

// "1 worker", "2 workers": decisions are read on the ops dashboard and in the log.
std::string Count(std::uint64_t n, std::string_view noun) {
  return std::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string JobsNeed(std::uint64_t depth) {
  return Count(depth, "job") + (depth == 1 ? " needs" : " need");
}

}  // namespace

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
    case ScalingAction::kRestart:
      return "restart";
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
                                      std::optional<double> idle_cores, std::uint64_t arrived) {
  // Work keeps one running worker for the cooldown; with none running, someone else's workers
  // did it, and it calls for none.
  if (depth > 0 || arrived > 0) last_work_ = now;
  const bool keeps_one =
      current > 0 && last_work_ && now - *last_work_ <= options_.scale_in_cooldown;
  const int desired = keeps_one ? std::max(Desired(depth), 1) : Desired(depth);
  ScalingDecision decision{.from = current, .to = current, .depth = depth, .desired = desired};
  if (desired > current) {
    below_since_.reset();
    // The minimum, and a first worker for waiting jobs, are started whatever the load.
    const int unconditional = std::min(desired, std::max(options_.min_workers, 1));
    const bool cores_busy = idle_cores && *idle_cores < options_.scale_out_idle_cores;
    if (cores_busy && current >= unconditional) {
      decision.action = ScalingAction::kScaleOutHeld;
      decision.reason = std::format(
          "{} {}, but only {:.1f} cores were idle (a new worker needs {:.1f})", JobsNeed(depth),
          Count(desired, "worker"), idle_cores.value_or(0.0), options_.scale_out_idle_cores);
      return decision;
    }
    decision.action = ScalingAction::kScaleOut;
    decision.to = cores_busy ? unconditional : desired;
    decision.reason =
        current < options_.min_workers && decision.to <= options_.min_workers
            ? std::format("below the minimum of {}", Count(options_.min_workers, "worker"))
            : std::format("{} {} at {} each", JobsNeed(depth), Count(desired, "worker"),
                          Count(options_.jobs_per_worker, "job"));
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
  // Down to no worker once the work that kept one is a cooldown old: idle since that work.
  if (!below_since_) below_since_ = desired == 0 && last_work_ ? *last_work_ : now;
  if (now - *below_since_ < options_.scale_in_cooldown) return decision;
  below_since_.reset();
  decision.action = ScalingAction::kScaleIn;
  decision.to = desired;
  decision.reason = desired == 0 ? std::string("idle for the whole cooldown: scaling to zero")
                                 : std::format("{} only {} for the whole cooldown", JobsNeed(depth),
                                               Count(desired, "worker"));
  return decision;
}

}  // namespace argus::scaler
