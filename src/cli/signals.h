#pragma once

#include <functional>
#include <thread>

namespace argus::cli {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it starts afterwards,
// so that only the watcher below receives them. Call first thing in main's command.
void BlockTerminationSignals();

// A thread that runs `on_signal` once, when SIGTERM, SIGINT or SIGHUP arrives: each stops
// the process gracefully. Destroying the
// returned thread before a signal came ends the watch.
std::jthread WatchTerminationSignals(std::function<void()> on_signal);

}  // namespace argus::cli
