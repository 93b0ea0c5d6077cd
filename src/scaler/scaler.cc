#include "scaler/scaler.h"

#include <json/json.h>
#include <sys/wait.h>

#include <algorithm>
#include <format>
#include <optional>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"

namespace argus::scaler {
namespace {

constexpr std::size_t kRecentDecisions = 100;

void Log(Json::Value line) {
  line["component"] = "scaler";
  line["time_ms"] = static_cast<Json::Int64>(NowMs());
  WriteLogLine(WriteJson(line));
}

// An error line, unless `errors` holds it back as a copy of a recent one.
void LogError(RepeatedMessages& errors, const std::string& message) {
  const std::optional<std::uint64_t> held_back = errors.Admit(message);
  if (!held_back) return;
  Json::Value line(Json::objectValue);
  line["level"] = "error";
  line["message"] = message;
  if (*held_back > 0) line["repeats_held_back"] = static_cast<Json::UInt64>(*held_back);
  Log(line);
}

}  // namespace

std::chrono::milliseconds RestartBackoff::DelayAfter(int failed_starts) const {
  if (failed_starts < 2) return std::chrono::milliseconds::zero();
  std::chrono::milliseconds delay = first_delay;
  for (int i = 2; i < failed_starts && delay < longest_delay; ++i) delay *= 2;
  return std::min(delay, longest_delay);
}

Scaler::Scaler(queue::Queue& queue, WorkerPool& pool, ScalingOptions options,
               std::chrono::milliseconds tick, RestartBackoff backoff)
    : queue_(queue), pool_(pool), policy_(options), tick_(tick), backoff_(backoff) {}

void Scaler::Tick() {
  const auto now = std::chrono::steady_clock::now();
  for (const WorkerPool::Exit& exit : pool_.Reap()) {
    if (exit.requested) continue;
    const auto lived = std::chrono::duration_cast<std::chrono::milliseconds>(exit.lived);
    // One that got as far as working started well, however short its life.
    failed_starts_ = lived < backoff_.start_grace && !exit.beat ? failed_starts_ + 1 : 0;
    if (failed_starts_ > 0) last_failed_start_ = now;
    next_start_ = now + backoff_.DelayAfter(failed_starts_);
    Json::Value line(Json::objectValue);
    line["level"] = "warning";
    line["event"] = "worker_crashed";
    line["pid"] = exit.pid;
    line["lived_ms"] = static_cast<Json::Int64>(lived.count());
    line["message"] = WIFSIGNALED(exit.status)
                          ? "worker killed by signal " + std::to_string(WTERMSIG(exit.status))
                          : "worker exited with status " + std::to_string(WEXITSTATUS(exit.status));
    Log(line);
    ++crashed_unreplaced_;
    std::lock_guard lock(mutex_);
    ++status_.crashes;
  }
  KillStalled();
  // Only a worker started since the last failure can show that starting works again: one
  // that has run all along says nothing of the new ones.
  if (pool_.longest_up_of_those_started_since(last_failed_start_) >= backoff_.start_grace) {
    failed_starts_ = 0;
  }
  auto stats = queue_.Stats();
  if (!stats) {
    LogError(errors_, "cannot read queue depth: " + stats.error().message);
    return;
  }
  const std::uint64_t depth = stats->ready + stats->in_flight;
  const std::optional<double> idle_cores = idle_cores_.Sample();
  // A count that went back (a queue made anew) changed all the same.
  const std::uint64_t arrived =
      !enqueued_total_ || stats->enqueued_total == *enqueued_total_
          ? 0
          : std::max<std::uint64_t>(1, stats->enqueued_total - *enqueued_total_);
  enqueued_total_ = stats->enqueued_total;
  ScalingDecision decision =
      policy_.Decide(depth, pool_.running(), std::chrono::steady_clock::now(), idle_cores, arrived);
  if (draining_ && depth == 0 && decision.action == ScalingAction::kScaleOut) {
    decision = {.action = ScalingAction::kHold,
                .from = decision.from,
                .to = decision.from,
                .depth = depth,
                .desired = decision.from,
                .reason = "stopping: no job waits"};
  }
  // Crashed workers the demand no longer needs are not missed.
  crashed_unreplaced_ =
      std::clamp(policy_.Desired(depth) - pool_.running(), 0, crashed_unreplaced_);
  // A held scale-out is decided again every tick; it is logged and counted once per stretch.
  const bool held = decision.action == ScalingAction::kScaleOutHeld;
  const bool newly_held = held && !holding_;
  holding_ = held;
  // Starting workers while the last ones keep failing at start would only fail again.
  const bool delayed = decision.action == ScalingAction::kScaleOut && now < next_start_;
  if (delayed && !delaying_) {
    Json::Value line(Json::objectValue);
    line["level"] = "warning";
    line["event"] = "worker_start_delayed";
    line["failed_starts"] = failed_starts_;
    line["delay_ms"] = static_cast<Json::Int64>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_start_ - now).count());
    line["message"] = std::format(
        "{} workers in a row exited within {} s of starting; the next starts after the delay",
        failed_starts_,
        std::chrono::duration_cast<std::chrono::seconds>(backoff_.start_grace).count());
    Log(line);
  }
  delaying_ = delayed;
  const bool resizes = !delayed && (decision.action == ScalingAction::kScaleOut ||
                                    decision.action == ScalingAction::kScaleIn);
  if (resizes && decision.action == ScalingAction::kScaleOut) {
    const int started = decision.to - decision.from;
    if (started <= crashed_unreplaced_) {
      decision.action = ScalingAction::kRestart;
      decision.reason =
          std::format("replacing {} crashed worker{}", started, started == 1 ? "" : "s");
    }
    crashed_unreplaced_ = std::max(0, crashed_unreplaced_ - started);
  }
  if (resizes) {
    if (auto resized = pool_.Resize(decision.to); !resized) {
      LogError(errors_, "cannot start workers: " + resized.error().message);
    }
  }
  if (resizes || newly_held) {
    Json::Value line(Json::objectValue);
    line["level"] = "info";
    line["event"] = "scaling_decision";
    line["action"] = std::string(ActionName(decision.action));
    line["from"] = decision.from;
    line["to"] = decision.to;
    line["depth"] = static_cast<Json::UInt64>(decision.depth);
    line["reason"] = decision.reason;
    Log(line);
  }
  std::lock_guard lock(mutex_);
  status_.desired = decision.desired;
  status_.running = pool_.running();
  status_.stopping = pool_.stopping();
  const auto pids = pool_.running_pids();
  status_.worker_pids.assign(pids.begin(), pids.end());
  status_.queue = *stats;
  if (resizes && decision.action == ScalingAction::kScaleOut) ++status_.scale_outs;
  if (resizes && decision.action == ScalingAction::kRestart) ++status_.restarts;
  if (resizes && decision.action == ScalingAction::kScaleIn) ++status_.scale_ins;
  if (newly_held) ++status_.scale_outs_held;
  status_.idle_cores = idle_cores;
  status_.failed_starts = failed_starts_;
  if (resizes || newly_held) {
    status_.recent_decisions.push_back({NowMs(), decision});
    if (status_.recent_decisions.size() > kRecentDecisions) status_.recent_decisions.pop_front();
  }
}

void Scaler::KillStalled() {
  for (const WorkerPool::Stall& stall : pool_.KillStalled(policy_.options().stall_timeout)) {
    Json::Value line(Json::objectValue);
    line["level"] = "warning";
    line["event"] = "worker_stalled";
    line["pid"] = stall.pid;
    line["silent_ms"] = static_cast<Json::Int64>(
        std::chrono::duration_cast<std::chrono::milliseconds>(stall.silent).count());
    line["message"] = std::format(
        "worker gave no sign of life for {} s; killed{} (its jobs come back after their "
        "visibility timeout)",
        std::chrono::duration_cast<std::chrono::seconds>(stall.silent).count(),
        stall.stopping ? " while it was being stopped" : ", to be replaced");
    Log(line);
    std::lock_guard lock(mutex_);
    ++status_.stalls;
  }
}

void Scaler::Run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    Tick();
    std::this_thread::sleep_for(tick_);
  }
  // The stall timeout holds while workers finish their batches: one that hung need not hold
  // the stop for the whole grace.
  constexpr std::chrono::seconds kStopGrace{30};
  for (const pid_t pid : pool_.StopAll(kStopGrace, [this] { KillStalled(); })) {
    Json::Value line(Json::objectValue);
    line["level"] = "warning";
    line["event"] = "worker_killed";
    line["pid"] = pid;
    line["message"] =
        std::format("worker did not stop within {} s of SIGTERM; killed", kStopGrace.count());
    Log(line);
  }
}

ScalerStatus Scaler::Status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace argus::scaler
