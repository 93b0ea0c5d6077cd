#include "api/event_hub.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace argus::api {
namespace {

constexpr std::size_t kRecentEvents = 10'000;
constexpr auto kRecheckInterval = std::chrono::seconds(1);
constexpr std::uint64_t kReplicaTags = 1000;
constexpr std::uint64_t kForeignMarginMicros = 1'000'000;

std::uint64_t NowMicros() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

unsigned EventHub::RandomReplicaTag() {
  return static_cast<unsigned>(std::random_device()() % kReplicaTags);
}

EventHub::EventHub(unsigned replica_tag)
    : replica_tag_(replica_tag % kReplicaTags),
      last_micros_(NowMicros()),
      timer_([this](const std::stop_token& stop) { RunTimer(stop); }) {}

std::int64_t StatusEvent::arrived_at_ms() const {
  return static_cast<std::int64_t>(sequence / kReplicaTags / 1000);
}

std::uint64_t EventHub::SequenceAt(std::uint64_t micros) const {
  return micros * kReplicaTags + replica_tag_;
}

std::uint64_t EventHub::NextSequence() {
  last_micros_ = std::max(last_micros_ + 1, NowMicros());
  return SequenceAt(last_micros_);
}

std::uint64_t EventHub::ResumeAfter(std::uint64_t seen) const {
  if (seen % kReplicaTags == replica_tag_) return seen;
  const std::uint64_t micros = seen / kReplicaTags;
  if (micros <= kForeignMarginMicros) return 0;
  // In our numbering, so that the next reconnection to this process resumes exactly.
  return SequenceAt(micros - kForeignMarginMicros);
}

EventHub::~EventHub() {
  timer_.request_stop();
  changed_.notify_all();
}

void EventHub::OnStatus(std::string image_id, std::string status, std::string top_label,
                        std::string owner) {
  std::vector<ImageWake> image_wakes;
  std::vector<Wake> event_wakes;
  StatusEvent event;
  {
    std::lock_guard lock(mutex_);
    auto [begin, end] = image_waiters_.equal_range(image_id);
    for (auto it = begin; it != end; ++it) image_wakes.push_back(std::move(it->second.wake));
    image_waiters_.erase(begin, end);
    event = {NextSequence(), std::move(image_id), std::move(status), std::move(top_label),
             std::move(owner)};
    recent_.push_back(event);
    if (recent_.size() > kRecentEvents) {
      dropped_through_ = recent_.front().sequence;
      recent_.pop_front();
    }
    for (Waiter& waiter : event_waiters_) event_wakes.push_back(std::move(waiter.wake));
    event_waiters_.clear();
  }
  for (ImageWake& wake : image_wakes) wake(&event);
  for (Wake& wake : event_wakes) wake();
}

void EventHub::WaitForImage(const std::string& image_id, Clock::time_point deadline,
                            ImageWake wake) {
  bool sooner = false;
  {
    std::unique_lock lock(mutex_);
    if (closed_) {
      lock.unlock();
      return wake(nullptr);
    }
    image_waiters_.emplace(image_id, ImageWaiter{deadline, std::move(wake)});
    sooner = deadline < timer_wakes_at_;
    deadline_moved_ = deadline_moved_ || sooner;
  }
  if (sooner) changed_.notify_all();
}

void EventHub::WaitForEvents(std::uint64_t after_sequence, Clock::time_point deadline, Wake wake) {
  {
    std::unique_lock lock(mutex_);
    // Judged by the events held, as EventsAfter answers: the first number of a hub is no
    // event's, and a waiter woken for it found nothing, waited again and was woken again,
    // recursing until the stack overflowed.
    const bool newer = !recent_.empty() && recent_.back().sequence > after_sequence;
    if (!newer && !closed_) {
      event_waiters_.push_back({deadline, std::move(wake)});
      const bool sooner = deadline < timer_wakes_at_;
      deadline_moved_ = deadline_moved_ || sooner;
      lock.unlock();
      if (sooner) changed_.notify_all();
      return;
    }
  }
  wake();
}

std::vector<StatusEvent> EventHub::EventsAfter(std::uint64_t after_sequence,
                                               std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<StatusEvent> events;
  const auto first = std::ranges::upper_bound(recent_, after_sequence, {}, &StatusEvent::sequence);
  for (auto it = first; it != recent_.end() && events.size() < limit; ++it) events.push_back(*it);
  return events;
}

std::optional<StatusEvent> EventHub::LatestEventFor(const std::string& image_id,
                                                    std::uint64_t after_sequence) const {
  std::lock_guard lock(mutex_);
  for (auto it = recent_.rbegin(); it != recent_.rend() && it->sequence > after_sequence; ++it) {
    if (it->image_id == image_id) return *it;
  }
  return std::nullopt;
}

std::uint64_t EventHub::SequenceNow() {
  std::lock_guard lock(mutex_);
  return NextSequence();
}

bool EventHub::Dropped(std::uint64_t after_sequence) const {
  std::lock_guard lock(mutex_);
  return after_sequence < dropped_through_;
}

std::uint64_t EventHub::last_sequence() const {
  std::lock_guard lock(mutex_);
  return SequenceAt(last_micros_);
}

EventHub::WaitingClient::WaitingClient(EventHub& hub, std::string peer_key)
    : hub_(&hub), peer_key_(std::move(peer_key)) {
  std::lock_guard lock(hub_->waiting_clients_mutex_);
  hub_->waiting_clients_.insert(this);
}

void EventHub::WaitingClient::Answered() {
  if (answered_.exchange(true)) return;
  std::lock_guard lock(hub_->waiting_clients_mutex_);
  hub_->waiting_clients_.erase(this);
}

std::shared_ptr<EventHub::WaitingClient> EventHub::ClientStartsWaiting(std::string peer_key) {
  return std::make_shared<WaitingClient>(*this, std::move(peer_key));
}

std::size_t EventHub::clients_waiting_for_images() const {
  std::lock_guard lock(waiting_clients_mutex_);
  return waiting_clients_.size();
}

std::size_t EventHub::ClientsStillWaiting(
    const std::function<bool(const std::string&)>& connected) const {
  std::vector<std::string> peers;
  {
    std::lock_guard lock(waiting_clients_mutex_);
    for (const WaitingClient* client : waiting_clients_) peers.push_back(client->peer_key_);
  }
  return static_cast<std::size_t>(std::ranges::count_if(
      peers, [&](const std::string& peer) { return peer.empty() || connected(peer); }));
}

std::size_t EventHub::waiting_for_images() const {
  std::lock_guard lock(mutex_);
  return image_waiters_.size();
}

void EventHub::Close() {
  std::vector<ImageWake> wakes;
  std::vector<Waiter> event_waiters;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& [id, waiter] : image_waiters_) wakes.push_back(std::move(waiter.wake));
    image_waiters_.clear();
    event_waiters.swap(event_waiters_);
  }
  for (ImageWake& wake : wakes) wake(nullptr);
  for (Waiter& waiter : event_waiters) waiter.wake();
}

bool EventHub::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void EventHub::RunTimer(const std::stop_token& stop) {
  auto next_recheck = Clock::now() + kRecheckInterval;
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    Clock::time_point wake_at = next_recheck;
    for (const auto& [id, waiter] : image_waiters_) wake_at = std::min(wake_at, waiter.deadline);
    for (const Waiter& waiter : event_waiters_) wake_at = std::min(wake_at, waiter.deadline);
    timer_wakes_at_ = wake_at;
    changed_.wait_until(lock, stop, wake_at, [&] { return deadline_moved_; });
    deadline_moved_ = false;
    if (stop.stop_requested()) break;

    const auto now = Clock::now();
    const bool recheck = now >= next_recheck;
    if (recheck) next_recheck = now + kRecheckInterval;
    std::vector<ImageWake> image_wakes;
    for (auto it = image_waiters_.begin(); it != image_waiters_.end();) {
      if (recheck || it->second.deadline <= now) {
        image_wakes.push_back(std::move(it->second.wake));
        it = image_waiters_.erase(it);
      } else {
        ++it;
      }
    }
    std::vector<Wake> wakes;
    std::erase_if(event_waiters_, [&](Waiter& waiter) {
      if (!recheck && waiter.deadline > now) return false;
      wakes.push_back(std::move(waiter.wake));
      return true;
    });
    lock.unlock();
    for (ImageWake& wake : image_wakes) wake(nullptr);
    for (Wake& wake : wakes) wake();
    lock.lock();
  }
}

}  // namespace argus::api
