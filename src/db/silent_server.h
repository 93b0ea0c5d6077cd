#pragma once

#include <atomic>
#include <memory>

namespace drogon::orm {
class DbClient;
}  // namespace drogon::orm

namespace argus::db {

// A PostgreSQL server can keep its connections open and stop answering: a network that drops
// packets without resetting connections, a server that is stopped or hung. Statements sent to
// it wait until their callers give up, and callers on the web tier's I/O threads hold those
// threads, so every later request would wait as long. Once one statement has gone
// unanswered, callers are told to fail at once instead, until the server answers a probe
// ("SELECT 1", sent at most one at a time) again.
class SilentServer {
 public:
  // Whether statements should be sent to `db`: false from an unanswered statement until a
  // probe is answered. Sends a probe when it is false and none is pending.
  bool Answering(drogon::orm::DbClient& db);

  // A statement sent to the server got no answer within its caller's wait.
  void NoteUnanswered();

 private:
  // Shared with the probe's callbacks, which may run after this object is gone.
  struct State {
    std::atomic<bool> silent{false};
    std::atomic<bool> probing{false};
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace argus::db
