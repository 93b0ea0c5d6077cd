#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"

namespace argus::scaler {

// Worker processes on this machine, each started with the same command line and
// environment ("NAME=VALUE" entries). Workers are processes so that a crash (or a kill -9)
// never takes the web tier down; each one gets SIGTERM if its parent dies, so that it
// finishes the batch in hand and exits rather than outlive a killed `argus serve`.
//
// Each worker's command line gets `--heartbeat-fd=3` added: its end of a socket on which it
// beats as it works (worker::Heartbeat), so that one that hangs is found (KillStalled).
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
    bool requested;  // false: it crashed, was killed by someone else or stalled
    int status;      // as from waitpid
    Clock::duration lived;
    bool beat;  // it gave a heartbeat: it got as far as working
  };
  // Collects workers that have exited since the last call.
  std::vector<Exit> Reap();

  struct Stall {
    pid_t pid;
    Clock::duration silent;
    bool stopping;  // it had been asked to stop: not one to replace
  };
  // Reads the workers' heartbeats, then kills (SIGKILL) each worker, running or stopping,
  // that has given none for `timeout`, since its start or its last: a running one exits as a
  // crash, and its jobs come back after their visibility timeout. Returns those killed now.
  std::vector<Stall> KillStalled(Clock::duration timeout);

  int running() const { return static_cast<int>(running_.size()); }
  int stopping() const { return static_cast<int>(stopping_.size()); }
  std::vector<pid_t> running_pids() const;
  // How long the longest-running of the workers started at or after `since` has been up;
  // zero when none runs.
  Clock::duration longest_up_of_those_started_since(Clock::time_point since) const;

  // SIGTERM to all, then SIGKILL to those still there after `grace`; returns those.
  // `while_waiting`, when given, runs at each look while some are still stopping (the
  // scaler's stall watch).
  std::vector<pid_t> StopAll(std::chrono::milliseconds grace,
                             const std::function<void()>& while_waiting = {});

 private:
  struct Started {
    Clock::time_point at;
    int heartbeat_fd = -1;  // our end; -1 once the worker is reaped
    Clock::time_point last_beat;
    bool beat = false;
    bool killed_for_stall = false;
  };
  static void ReadBeats(Started& started);
  void Forget(pid_t pid);

  std::vector<std::string> command_;
  std::vector<std::string> environment_;
  std::map<pid_t, Started> started_;  // every worker not yet reaped
  std::set<pid_t> running_;
  std::set<pid_t> stopping_;
};

}  // namespace argus::scaler
