#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace argus::api {

// A status change of one image, numbered in the order this process learned of it: the
// number is the time it arrived, in microseconds, times 1000 plus the process's replica tag
// (0-999, chosen at random). Every web replica hears the same events at about the same
// time, so a client that reconnects to another replica, or to a restarted one, with the
// last number it saw resumes at about the right place (see ResumeAfter).
struct StatusEvent {
  std::uint64_t sequence = 0;
  std::string image_id;
  std::string status;
  std::string top_label;  // with "done", when the worker sent it (worker::ImageEvent)
  std::string owner;      // the account whose upload or deletion it is; "" for a worker's event

  // When this process learned of it, in milliseconds since the epoch (system clock).
  std::int64_t arrived_at_ms() const;
};

// Wakes clients that wait for images (synchronous POST /, ?wait=, server-sent events).
// Events come from the event bus; since the bus may drop events, every waiter is also woken
// once a second so it re-reads the catalog. A waiter is woken exactly once.
class EventHub {
 public:
  using Clock = std::chrono::steady_clock;
  using Wake = std::function<void()>;
  // Given the event that woke it, or nullptr when the re-check or the deadline did.
  using ImageWake = std::function<void(const StatusEvent* event)>;

  // `replica_tag` (0-999) names this process in its event numbers; at random by default.
  explicit EventHub(unsigned replica_tag = RandomReplicaTag());
  ~EventHub();

  static unsigned RandomReplicaTag();

  void OnStatus(std::string image_id, std::string status, std::string top_label = "",
                std::string owner = "");

  // `wake` runs once: on an event for `image_id`, on the periodic re-check, or at `deadline`;
  // at once when the hub is closed.
  void WaitForImage(const std::string& image_id, Clock::time_point deadline, ImageWake wake);
  // `wake` runs once: when an event after `after_sequence` exists, on the periodic
  // re-check, or at `deadline`.
  void WaitForEvents(std::uint64_t after_sequence, Clock::time_point deadline, Wake wake);

  // Events after `after_sequence` still in the recent-events window, oldest first, at most
  // `limit` of them.
  std::vector<StatusEvent> EventsAfter(std::uint64_t after_sequence,
                                       std::size_t limit = SIZE_MAX) const;
  // The newest event for `image_id` after `after_sequence` still in that window.
  std::optional<StatusEvent> LatestEventFor(const std::string& image_id,
                                            std::uint64_t after_sequence) const;
  // Whether an event after `after_sequence` has left the recent-events window: a client
  // resuming there has missed it.
  bool Dropped(std::uint64_t after_sequence) const;
  std::uint64_t last_sequence() const;
  // A number after every event so far and before every later one, which tells nothing of
  // when events came: the id a stream is given when no event of its own carries one (the
  // last event's number told another account's activity, to the microsecond).
  std::uint64_t SequenceNow();
  // Where to resume for a client whose last event had number `seen`: there, when this
  // process numbered it; otherwise another replica (or an earlier process) did, and its
  // clock and its moment of hearing each event differ a little from ours, so the client
  // gets again the events of the second before, rather than miss some.
  std::uint64_t ResumeAfter(std::uint64_t seen) const;
  // Waits registered for an image (WaitForImage), not yet woken.
  std::size_t waiting_for_images() const;

  // A client waiting for an image, counted from its request to its answer, across the
  // wake-ups and waits between: a periodic re-check takes every wait out until the catalog
  // is read, which the drain before shutdown must not mistake for no one waiting.
  class WaitingClient {
   public:
    WaitingClient(EventHub& hub, std::string peer_key);
    WaitingClient(const WaitingClient&) = delete;
    WaitingClient& operator=(const WaitingClient&) = delete;
    ~WaitingClient() { Answered(); }
    void Answered();  // once it has its answer; again is a no-op

   private:
    friend class EventHub;
    EventHub* hub_;
    const std::string peer_key_;  // common/peer_key.h; empty when not known
    std::atomic<bool> answered_ = false;
  };
  // `peer_key`: the client's address (common/peer_key.h), so that a stopping server can tell
  // whether the client is still connected.
  [[nodiscard]] std::shared_ptr<WaitingClient> ClientStartsWaiting(std::string peer_key = {});
  // The clients waiting for an image that `connected` says are still connected (or whose
  // address is not known): a client that hung up is waited for no more.
  std::size_t ClientsStillWaiting(const std::function<bool(const std::string&)>& connected) const;
  std::size_t clients_waiting_for_images() const;

  // Ends every wait, for an image or for events, and those that would begin later, as if
  // its deadline had come: the server is stopping and answers its waiting clients with
  // what it has (an event stream its id, to resume from on another replica).
  void Close();
  bool closed() const;

 private:
  struct Waiter {
    Clock::time_point deadline;
    Wake wake;
  };
  struct ImageWaiter {
    Clock::time_point deadline;
    ImageWake wake;
  };
  void RunTimer(const std::stop_token& stop);
  // This process's number for an event that arrived at `micros`.
  std::uint64_t SequenceAt(std::uint64_t micros) const;
  std::uint64_t NextSequence();  // under mutex_

  // Before the waits, which hold WaitingClients of their own: destroyed after them.
  mutable std::mutex waiting_clients_mutex_;
  std::set<const WaitingClient*> waiting_clients_;
  mutable std::mutex mutex_;
  std::condition_variable_any changed_;
  std::deque<StatusEvent> recent_;
  std::uint64_t dropped_through_ = 0;  // the newest event that left recent_; 0: none
  const unsigned replica_tag_;
  // The arrival time of the last event, or the start: the time part of last_sequence().
  std::uint64_t last_micros_ = 0;
  std::multimap<std::string, ImageWaiter> image_waiters_;
  std::vector<Waiter> event_waiters_;
  // When the timer thread wakes next; a waiter whose deadline comes sooner wakes it to
  // recompute (most do not: deadlines are seconds away and the re-check comes every second).
  Clock::time_point timer_wakes_at_ = Clock::time_point::max();
  bool deadline_moved_ = false;
  bool closed_ = false;
  std::jthread timer_;
};

}  // namespace argus::api
