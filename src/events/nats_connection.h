#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/silence_watch.h"

namespace argus::nats {

// Frees a nats.c object with its Destroy function (natsMsg_Destroy, jsPubAck_Destroy, ...).
template <auto Destroy>
struct Deleter {
  template <typename T>
  void operator()(T* object) const {
    Destroy(object);
  }
};
using MsgPtr = std::unique_ptr<natsMsg, Deleter<natsMsg_Destroy>>;

// What "nats://[user[:password]@]host[:port][/NAME]" names. NAME lets several deployments
// share one NATS server; the queue and the event bus derive their stream and subject names
// from it.
struct Url {
  std::string server;  // "nats://[credentials@]host:port", for nats.c
  std::string shown;   // host:port, for messages: never the credentials
  std::string name;    // NAME, empty when absent
};

// `rest` is the URL after "nats://". NAME is 1 to 64 letters, digits, '-' or '_' (it ends
// up in JetStream stream names and subjects); anything else is kInvalidArgument.
Result<Url> ParseUrl(std::string_view rest);

// A client connection, shared by the objects that use it. It reconnects forever, backing
// off to one attempt every 2 s, so a restart of the server is survived; while the server is
// away, requests fail at once (see CheckAnswering) and plain publications wait in nats.c's
// 8 MiB reconnect buffer.
//
// A server that keeps the connection open and stops answering is noticed by nats.c only
// after two unanswered pings, 10 to 15 s; meanwhile every request waited for its own
// timeout. Once one request has gone unanswered, requests fail at once instead, until the
// server answers a ping again (SilenceWatch).
class Connection {
 public:
  // kUnavailable when the server cannot be reached now.
  static Result<std::shared_ptr<Connection>> Open(const Url& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* get() const { return connection_; }
  const std::string& shown() const { return shown_; }

  // kUnavailable unless the connection is up right now and the server has not stopped
  // answering.
  Result<void> CheckAnswering() const;
  // How often the connection has been re-established. A reply to a request sent before a
  // reconnection never comes.
  std::uint64_t reconnects() const;

  // The error for a nats.c call that failed with `status` while trying to `what` ("publish
  // to argus.jobs"), with nats.c's explanation. Call it on the failing thread, right after
  // the failure: the explanation is that thread's last error. A timeout counts as an
  // unanswered request.
  Error Failure(natsStatus status, std::string_view what) const;

  // A request got no answer within its wait: later requests fail at once until the server
  // answers a ping.
  void NoteUnanswered() const { silence_->NoteUnanswered(); }

 private:
  Connection(natsConnection* connection, std::string shown);

  natsConnection* const connection_;
  const std::string shown_;
  std::unique_ptr<SilenceWatch> silence_;  // pings while silent; reset before the connection goes
};

}  // namespace argus::nats
