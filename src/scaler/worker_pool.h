#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace argus::scaler {

// Worker processes on this machine, each started with the same command line and
// environment ("NAME=VALUE" entries). Workers are processes so that a crash (or a kill -9)
// never takes the web tier down; each one gets SIGTERM if its parent dies, so none outlives
// a killed `argus serve`.
class WorkerPool {
 public:
  WorkerPool(std::vector<std::string> command, std::vector<std::string> environment);
  ~WorkerPool();  // stops every worker (see StopAll)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Starts or gracefully stops (SIGTERM: the batch in hand is finished) workers so that
  // `count` are running, not counting those already stopping.
  Result<void> Resize(int count);

  using Clock = std::chrono::steady_clock;

  struct Exit {
    pid_t pid;
    bool requested;  // false: it crashed or was killed by someone else
    int status;      // as from waitpid
    Clock::duration lived;
  };
  // Collects workers that have exited since the last call.
  std::vector<Exit> Reap();

  int running() const { return static_cast<int>(running_.size()); }
  int stopping() const { return static_cast<int>(stopping_.size()); }
  std::vector<pid_t> running_pids() const;
  // How long the longest-running of the workers started at or after `since` has been up;
  // zero when none runs.
  Clock::duration longest_up_of_those_started_since(Clock::time_point since) const;

  // SIGTERM to all, then SIGKILL to those still there after `grace`.
  void StopAll(std::chrono::milliseconds grace);

 private:
  std::vector<std::string> command_;
  std::vector<std::string> environment_;
  std::map<pid_t, Clock::time_point> started_;  // of every worker not yet reaped
  std::set<pid_t> running_;
  std::set<pid_t> stopping_;
};

}  // namespace argus::scaler
