#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>

namespace argus::cli {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it starts afterwards,
// so that only the watcher below receives them. Call first thing in main's command.
void BlockTerminationSignals();

// A thread that runs `on_signal` once, when SIGTERM, SIGINT or SIGHUP arrives: each stops
// the process gracefully. Destroying the
// returned thread before a signal came ends the watch.
std::jthread WatchTerminationSignals(std::function<void()> on_signal);

// A thread that ends the process (status kStopOverdueExitCode, with a log line naming `who`)
// when it is still running `limit` after `stop` was requested; destroying the thread ends the
// watch. For a process whose graceful stop may hang with no one left to kill it.
inline constexpr int kStopOverdueExitCode = 3;
std::jthread ExitUnlessStoppedWithin(std::stop_token stop, std::chrono::milliseconds limit,
                                     std::string who);

}  // namespace argus::cli
