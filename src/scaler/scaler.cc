#include "scaler/scaler.h"

#include <json/json.h>
#include <sys/wait.h>

#include <iostream>
#include <thread>

#include "common/clock.h"

namespace argus::scaler {
namespace {

constexpr std::size_t kRecentDecisions = 100;

void Log(Json::Value line) {
  line["component"] = "scaler";
  line["time_ms"] = static_cast<Json::Int64>(NowMs());
  Json::StreamWriterBuilder writer;
  writer["indentation"] = "";
  std::cerr << Json::writeString(writer, line) << '\n';
}

}  // namespace

Scaler::Scaler(queue::Queue& queue, WorkerPool& pool, ScalingOptions options,
               std::chrono::milliseconds tick)
    : queue_(queue), pool_(pool), policy_(options), tick_(tick) {}

void Scaler::Tick() {
  for (const WorkerPool::Exit& exit : pool_.Reap()) {
    if (exit.requested) continue;
    Json::Value line(Json::objectValue);
    line["level"] = "warning";
    line["event"] = "worker_crashed";
    line["pid"] = exit.pid;
    line["message"] = WIFSIGNALED(exit.status)
                          ? "worker killed by signal " + std::to_string(WTERMSIG(exit.status))
                          : "worker exited with status " + std::to_string(WEXITSTATUS(exit.status));
    Log(line);
    std::lock_guard lock(mutex_);
    ++status_.crashes;
  }
  auto stats = queue_.Stats();
  if (!stats) {
    Json::Value line(Json::objectValue);
    line["level"] = "error";
    line["message"] = "cannot read queue depth: " + stats.error().message;
    Log(line);
    return;
  }
  const std::uint64_t depth = stats->ready + stats->in_flight;
  const std::optional<double> idle_cores = idle_cores_.Sample();
  const ScalingDecision decision =
      policy_.Decide(depth, pool_.running(), std::chrono::steady_clock::now(), idle_cores);
  // A held scale-out is decided again every tick; it is logged and counted once per stretch.
  const bool held = decision.action == ScalingAction::kScaleOutHeld;
  const bool newly_held = held && !holding_;
  holding_ = held;
  const bool resizes =
      decision.action == ScalingAction::kScaleOut || decision.action == ScalingAction::kScaleIn;
  if (resizes) {
    if (auto resized = pool_.Resize(decision.to); !resized) {
      Json::Value line(Json::objectValue);
      line["level"] = "error";
      line["message"] = "cannot start workers: " + resized.error().message;
      Log(line);
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
  status_.desired = policy_.Desired(depth);
  status_.running = pool_.running();
  status_.stopping = pool_.stopping();
  const auto pids = pool_.running_pids();
  status_.worker_pids.assign(pids.begin(), pids.end());
  status_.queue = *stats;
  if (decision.action == ScalingAction::kScaleOut) ++status_.scale_outs;
  if (decision.action == ScalingAction::kScaleIn) ++status_.scale_ins;
  if (newly_held) ++status_.scale_outs_held;
  status_.idle_cores = idle_cores;
  if (resizes || newly_held) {
    status_.recent_decisions.push_back({NowMs(), decision});
    if (status_.recent_decisions.size() > kRecentDecisions) status_.recent_decisions.pop_front();
  }
}

void Scaler::Run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    Tick();
    std::this_thread::sleep_for(tick_);
  }
  pool_.StopAll(std::chrono::seconds(30));
}

ScalerStatus Scaler::Status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace argus::scaler
