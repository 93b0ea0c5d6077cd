#include "scaler/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace argus::scaler {

WorkerPool::WorkerPool(std::vector<std::string> command, std::vector<std::string> environment)
    : command_(std::move(command)), environment_(std::move(environment)) {}

WorkerPool::~WorkerPool() { StopAll(std::chrono::seconds(30)); }

namespace {

constexpr int kHeartbeatFd = 3;

}  // namespace

Result<void> WorkerPool::Resize(int count) {
  while (running() < count) {
    std::string heartbeat_option = "--heartbeat-fd=" + std::to_string(kHeartbeatFd);
    std::vector<char*> argv;
    argv.reserve(command_.size() + 2);
    for (std::string& argument : command_) argv.push_back(argument.data());
    argv.push_back(heartbeat_option.data());
    argv.push_back(nullptr);
    // Built before fork: the child of a threaded process may not allocate.
    std::vector<char*> envp;
    envp.reserve(environment_.size() + 1);
    for (std::string& variable : environment_) envp.push_back(variable.data());
    envp.push_back(nullptr);
    int heartbeat[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, heartbeat) != 0) {
      return Fail(ErrorCode::kUnavailable, std::string("socketpair: ") + std::strerror(errno));
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      const int fork_error = errno;
      close(heartbeat[0]);
      close(heartbeat[1]);
      return Fail(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(fork_error));
    }
    if (pid == 0) {
      // The worker's end, kept open across exec (dup2 clears close-on-exec).
      if (heartbeat[1] == kHeartbeatFd) {
        fcntl(kHeartbeatFd, F_SETFD, 0);
      } else if (dup2(heartbeat[1], kHeartbeatFd) < 0) {
        _exit(127);
      }
      // The parent blocks termination signals in favour of a watcher thread; the mask is
      // inherited, and a worker must react to SIGTERM.
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl took effect
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(heartbeat[1]);
    running_.insert(pid);
    const Clock::time_point now = Clock::now();
    started_[pid] = {.at = now, .heartbeat_fd = heartbeat[0], .last_beat = now};
  }
  while (running() > count) {
    // The newest worker is the one most likely to be idle; pids wrap, so it is found by its
    // start.
    const pid_t pid = *std::ranges::max_element(
        running_, {}, [this](pid_t running) { return started_.at(running).at; });
    running_.erase(pid);
    stopping_.insert(pid);
    kill(pid, SIGTERM);
  }
  return {};
}

std::vector<WorkerPool::Exit> WorkerPool::Reap() {
  std::vector<Exit> exits;
  int status = 0;
  for (pid_t pid = 0; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
    const bool requested = stopping_.erase(pid) > 0;
    if (!requested && running_.erase(pid) == 0) continue;  // not one of ours
    Started& started = started_.at(pid);
    ReadBeats(started);  // those it sent before it exited
    exits.push_back({.pid = pid,
                     .requested = requested,
                     .status = status,
                     .lived = Clock::now() - started.at,
                     .beat = started.beat});
    Forget(pid);
  }
  return exits;
}

void WorkerPool::ReadBeats(Started& started) {
  char beats[256];
  while (recv(started.heartbeat_fd, beats, sizeof beats, MSG_DONTWAIT) > 0) {
    started.last_beat = Clock::now();
    started.beat = true;
  }
}

void WorkerPool::Forget(pid_t pid) {
  if (const int fd = started_.at(pid).heartbeat_fd; fd >= 0) close(fd);
  started_.erase(pid);
}

std::vector<WorkerPool::Stall> WorkerPool::KillStalled(Clock::duration timeout) {
  std::vector<Stall> stalls;
  const Clock::time_point now = Clock::now();
  // Those asked to stop too: one that hangs while it finishes its batch would otherwise hold
  // its jobs until the scaler itself stops.
  std::vector<pid_t> watched(running_.begin(), running_.end());
  watched.insert(watched.end(), stopping_.begin(), stopping_.end());
  for (const pid_t pid : watched) {
    Started& started = started_.at(pid);
    ReadBeats(started);
    if (started.killed_for_stall || now - started.last_beat < timeout) continue;
    if (kill(pid, SIGKILL) == 0) {
      started.killed_for_stall = true;
      stalls.push_back(
          {.pid = pid, .silent = now - started.last_beat, .stopping = stopping_.contains(pid)});
    }
  }
  return stalls;
}

std::vector<pid_t> WorkerPool::running_pids() const { return {running_.begin(), running_.end()}; }

WorkerPool::Clock::duration WorkerPool::longest_up_of_those_started_since(
    Clock::time_point since) const {
  Clock::duration longest{};
  const auto now = Clock::now();
  for (const pid_t pid : running_) {
    if (const Clock::time_point started = started_.at(pid).at; started >= since) {
      longest = std::max(longest, now - started);
    }
  }
  return longest;
}

std::vector<pid_t> WorkerPool::StopAll(std::chrono::milliseconds grace,
                                       const std::function<void()>& while_waiting) {
  (void)Resize(0);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!stopping_.empty() && std::chrono::steady_clock::now() < deadline) {
    if (while_waiting) while_waiting();
    Reap();
    if (!stopping_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<pid_t> killed(stopping_.begin(), stopping_.end());
  for (const pid_t pid : killed) kill(pid, SIGKILL);
  for (const pid_t pid : killed) {
    waitpid(pid, nullptr, 0);
    Forget(pid);
  }
  stopping_.clear();
  return killed;
}

}  // namespace argus::scaler
