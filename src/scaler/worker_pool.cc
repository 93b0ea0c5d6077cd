#include "scaler/worker_pool.h"

#include <signal.h>
#include <sys/prctl.h>
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

Result<void> WorkerPool::Resize(int count) {
  while (running() < count) {
    std::vector<char*> argv;
    argv.reserve(command_.size() + 1);
    for (std::string& argument : command_) argv.push_back(argument.data());
    argv.push_back(nullptr);
    // Built before fork: the child of a threaded process may not allocate.
    std::vector<char*> envp;
    envp.reserve(environment_.size() + 1);
    for (std::string& variable : environment_) envp.push_back(variable.data());
    envp.push_back(nullptr);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) return Fail(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
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
    running_.insert(pid);
    started_[pid] = Clock::now();
  }
  while (running() > count) {
    // The newest worker is the one most likely to be idle; pids wrap, so it is found by its
    // start.
    const pid_t pid = *std::ranges::max_element(
        running_, {}, [this](pid_t running) { return started_.at(running); });
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
    const Clock::duration lived = Clock::now() - started_.at(pid);
    started_.erase(pid);
    exits.push_back({pid, requested, status, lived});
  }
  return exits;
}

std::vector<pid_t> WorkerPool::running_pids() const { return {running_.begin(), running_.end()}; }

WorkerPool::Clock::duration WorkerPool::longest_up_of_those_started_since(
    Clock::time_point since) const {
  Clock::duration longest{};
  const auto now = Clock::now();
  for (pid_t pid : running_) {
    if (const Clock::time_point started = started_.at(pid); started >= since) {
      longest = std::max(longest, now - started);
    }
  }
  return longest;
}

void WorkerPool::StopAll(std::chrono::milliseconds grace) {
  (void)Resize(0);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!stopping_.empty() && std::chrono::steady_clock::now() < deadline) {
    Reap();
    if (!stopping_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (pid_t pid : stopping_) kill(pid, SIGKILL);
  for (pid_t pid : stopping_) waitpid(pid, nullptr, 0);
  for (pid_t pid : stopping_) started_.erase(pid);
  stopping_.clear();
}

}  // namespace argus::scaler
