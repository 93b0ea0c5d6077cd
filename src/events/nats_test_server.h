#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"

namespace argus::nats {

// A TCP port on 127.0.0.1 that nothing listens on at the moment.
Result<int> FreePort();

// For tests: a nats-server (Debian package nats-server) with JetStream on free ports of
// 127.0.0.1, storing in a folder of its own. Stopped when destroyed.
class TestServer {
 public:
  // Starts it, storing under `dir` (created if missing), and waits until JetStream is ready.
  static Result<std::unique_ptr<TestServer>> Start(const std::filesystem::path& dir);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // "nats://127.0.0.1:PORT"
  std::string url() const;
  int port() const { return port_; }

  // Ends the server with `signal` and waits for it.
  void Stop(int signal);
  // Stops the server's process (SIGSTOP; returns once it has stopped) and lets it go on
  // (SIGCONT): meanwhile its connections stay open and nothing on them is answered.
  void Pause();
  void Resume();
  // Runs nats-server (again, after Stop: same ports, same store) and waits until JetStream
  // is ready.
  Result<void> Launch();

 private:
  TestServer(std::filesystem::path dir, int port, int monitor_port)
      : dir_(std::move(dir)), port_(port), monitor_port_(monitor_port) {}

  const std::filesystem::path dir_;
  const int port_;
  const int monitor_port_;
  pid_t pid_ = -1;
};

}  // namespace argus::nats
