#include "cli/signals.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <ctime>
#include <format>
#include <utility>

#include "common/log.h"
#include "common/periodic.h"

namespace argus::cli {
namespace {

sigset_t TerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // A terminal or ssh session that closes: its default action killed the process at once,
  // cutting off the clients waiting for their results.
  sigaddset(&signals, SIGHUP);
  return signals;
}

}  // namespace

void BlockTerminationSignals() {
  const sigset_t signals = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

std::jthread WatchTerminationSignals(std::function<void()> on_signal) {
  return std::jthread([on_signal = std::move(on_signal)](const std::stop_token& stop) {
    const sigset_t signals = TerminationSignals();
    const timespec poll_interval{.tv_sec = 0, .tv_nsec = 100'000'000};
    while (!stop.stop_requested()) {
      if (sigtimedwait(&signals, nullptr, &poll_interval) > 0) {
        on_signal();
        return;
      }
    }
  });
}

std::jthread ExitUnlessStoppedWithin(std::stop_token stop, std::chrono::milliseconds limit,
                                     std::string who) {
  return std::jthread(
      [stop = std::move(stop), limit, who = std::move(who)](const std::stop_token& done) {
        constexpr std::chrono::milliseconds kPoll{100};
        while (!stop.stop_requested()) {
          if (!PauseUnlessStopped(kPoll, done)) return;
        }
        if (!PauseUnlessStopped(limit, done)) return;
        LogLine("error", who,
                std::format("still running {} s after being asked to stop; exiting",
                            std::chrono::duration_cast<std::chrono::seconds>(limit).count()));
        std::_Exit(kStopOverdueExitCode);
      });
}

}  // namespace argus::cli
