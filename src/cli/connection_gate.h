#pragma once

#include <chrono>
#include <cstdint>

#include "common/error.h"

namespace argus::cli {

// Stops this process's listening TCP sockets on `port` from taking new connections, while
// the connections they took stay served. Drogon offers no way to stop listening short of
// quitting, which drops the requests its connections are still reading: under load, some
// clients of a stopping server got their connection closed with no answer, not knowing
// whether their upload had been taken. With the gate shut, a new client's connection
// attempt goes unanswered until the process is gone, and is then refused, which a client
// knows to be safe to try again.
//
// Each socket gets a filter that drops the first packet of every new client (classic BPF,
// SO_ATTACH_FILTER: a SYN without ACK), while handshakes under way complete; sockets are
// found among the process's file descriptors. Returns how many were shut.
Result<int> ShutConnectionGate(std::uint16_t port);

// This process's connections taken on `port` that received data within `within`: requests
// still arriving, such as an upload of some megabytes, which a stopping server waits for,
// where keep-alive connections that have been quiet (a browser keeps them for minutes) are
// not waited for.
int ConnectionsReceivingOn(std::uint16_t port, std::chrono::milliseconds within);

}  // namespace argus::cli
