#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace argus::cli {

// The HTTP server's connections on one port, watched for clients that hold its memory or its
// descriptors without using them, which Drogon does not bound:
// - A client that sends requests without reading the answers (pipelining) makes the server
//   keep every answer in memory: 430 KB of requests held 595 MB. A request that arrives while
//   earlier answers fill at least half the connection's send buffer unread shuts the
//   connection. A client that waits for each answer, as browsers and HTTP libraries do,
//   never has answers unread when it sends the next request.
// - A client that sends a request a byte at a time (slowloris) keeps its connection from the
//   idle timeout for good: 20,000 of them took every descriptor. A connection receiving a
//   request more slowly than `min_bytes_per_second`, averaged from the first byte seen, is
//   shut once `grace` has passed. Connections that send nothing (idle keep-alive, waiting
//   for an answer, reading an event stream) are left to the idle timeout.
//
// Connections are found among the process's file descriptors (cli/process_sockets.h), looked
// for again at most every `rescan_interval` when a request comes on one not yet known.
// Thread-safe.
class ConnectionWatch {
 public:
  struct Limits {
    std::chrono::seconds grace{30};
    std::uint64_t min_bytes_per_second = 1024;
    std::chrono::milliseconds rescan_interval{100};
  };
  using Clock = std::chrono::steady_clock;

  ConnectionWatch(std::uint16_t port, Limits limits) : port_(port), limits_(limits) {}

  // For each request as it arrives, from the client at `peer`: false when the connection was
  // shut for answers left unread.
  bool RequestArrived(const sockaddr* peer, Clock::time_point now = Clock::now());

  // Whether the client at the peer of `peer_key` (common/peer_key.h) still has an
  // established connection here: a stopping server need not wait for the result of a client
  // that has gone. A connection made since the last look through the descriptors, less than
  // `rescan_interval` ago, is not found.
  bool IsConnected(const std::string& peer_key, Clock::time_point now = Clock::now());

  // Shuts the connections receiving a request too slowly; returns how many. Called every few
  // seconds.
  int ShutSlowSenders(Clock::time_point now = Clock::now());

 private:
  struct Watched {
    int fd = -1;
    // Bytes the connection had received when its last request arrived (or when first seen).
    std::uint64_t received_at_request = 0;
    // Since when it has been receiving the next request: the sweep before the one that first
    // saw its bytes grow.
    std::optional<Clock::time_point> receiving_since;
  };

  // Finds this process's connections on the port not yet watched; drops those gone.
  void Rescan(Clock::time_point now);
  // The watched connection of `key` whose descriptor still is that connection; null otherwise.
  Watched* Find(const std::string& key);
  // Find, looking through the descriptors again first when the last look is over
  // `rescan_interval` old.
  Watched* FindOrRescan(const std::string& key, Clock::time_point now);

  const std::uint16_t port_;
  const Limits limits_;
  std::mutex mutex_;
  std::unordered_map<std::string, Watched> by_peer_;
  Clock::time_point last_rescan_{};
  Clock::time_point last_sweep_{};
};

}  // namespace argus::cli
