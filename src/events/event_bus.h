#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::events {

// Ends the delivery of events to its handler when destroyed.
class Subscription {
 public:
  virtual ~Subscription() = default;
};

// Notifications between tiers ("image X is done"), so that whichever web process holds a
// waiting client answers it at once. Best effort by design: the catalog stays the source of
// truth and waiting clients re-check it, so a lost event only costs latency.
class EventBus {
 public:
  virtual ~EventBus() = default;

  // Blocks at most a fraction of a second; an event nobody listens to is dropped.
  virtual Result<void> Publish(std::string_view payload) = 0;
  // Calls `handler` with every payload published from now on, on a background thread.
  virtual Result<std::unique_ptr<Subscription>> Subscribe(
      std::function<void(std::string_view)> handler) = 0;

  // True when every subscribing process gets every event (NATS, one subscriber per web
  // replica); false for the one subscriber of a Unix socket.
  virtual bool ReachesEverySubscriber() const = 0;
  // As Subscribe, but each event goes to only one of the subscriptions made with the same
  // `group`, whichever processes hold them: for figures counted from events, which every
  // replica would otherwise count. Only on a bus that ReachesEverySubscriber().
  virtual Result<std::unique_ptr<Subscription>> SubscribeInGroup(
      const std::string& group, std::function<void(std::string_view)> handler) = 0;
};

// "unix:///abs/path.sock": a datagram socket on this machine (one subscriber, the web tier).
// "nats://host:port[/NAME]": NATS publish/subscribe, every subscriber (one per web replica)
// gets every event; see nats_event_bus.h.
Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url);

}  // namespace argus::events
