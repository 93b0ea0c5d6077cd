#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/durability.h"
#include "common/error.h"

namespace argus::queue {

// A received job. It stays invisible to other receivers until it is acknowledged,
// released, or its visibility timeout passes (then it is delivered again).
struct Message {
  std::string id;
  std::string body;
  int delivery_count = 1;  // 1 on first delivery
  std::string receipt;     // identifies this delivery; stale receipts are refused
};

struct QueueStats {
  std::uint64_t ready = 0;      // waiting to be received: the depth the scaler follows
  std::uint64_t in_flight = 0;  // received, not yet acknowledged
  std::uint64_t dead = 0;       // dead-lettered
  // Jobs ever enqueued, or a count that changes with every enqueue: jobs that came and were
  // done between two readings leave no depth, but change this.
  std::uint64_t enqueued_total = 0;
};

struct DeadLetter {
  std::string id;
  std::string body;
  std::string reason;
  std::int64_t dead_at_ms = 0;
};

struct QueueOptions {
  std::chrono::milliseconds visibility_timeout{30'000};
  // The embedded queue's; JetStream's is the server's (sync_interval, replicas).
  DurabilityLevel durability = DurabilityLevel::kProcessCrash;
};

// A durable work queue with SQS semantics: at-least-once delivery, visibility timeout,
// delivery count. Deciding when a job is poison and dead-lettering it is the caller's job
// (JetStream works the same way). Thread-safe; several processes may share one queue.
class Queue {
 public:
  virtual ~Queue() = default;

  // Durable, as QueueOptions::durability says, when it returns.
  virtual Result<std::string> Enqueue(std::string_view body) = 0;
  // Up to `max` messages in enqueue order; waits up to `wait` for the first one, then
  // returns what is available (possibly nothing).
  virtual Result<std::vector<Message>> Receive(std::size_t max, std::chrono::milliseconds wait) = 0;
  virtual Result<void> Ack(const Message& message) = 0;
  // Ack of each message, as one operation where the back end allows. kConflict naming the
  // messages whose delivery was over; the others are acknowledged all the same.
  virtual Result<void> AckAll(std::span<const Message> messages) = 0;
  // Makes the message visible again after `delay` (a retry).
  virtual Result<void> Release(const Message& message, std::chrono::milliseconds delay) = 0;
  // Restarts the visibility timeout of a message still being worked on.
  virtual Result<void> ExtendVisibility(const Message& message) = 0;
  // Removes the message from the work queue into the dead-letter store with its reason.
  virtual Result<void> MoveToDeadLetter(const Message& message, std::string_view reason) = 0;
  virtual Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) = 0;
  virtual Result<QueueStats> Stats() = 0;
};

// "sqlite:///abs/path/queue.db" or "sqlite://relative/path.db": the embedded queue.
// "nats://host:port[/STREAM]" (credentials as "nats://user:password@host:port"): NATS
// JetStream, stream ARGUS_JOBS unless named; see nats_queue.h.
Result<std::unique_ptr<Queue>> OpenQueue(std::string_view url, const QueueOptions& options);

}  // namespace argus::queue
