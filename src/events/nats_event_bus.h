#pragma once

#include <memory>
#include <string_view>

#include "common/error.h"
#include "events/event_bus.h"

namespace argus::events {

// Events as core NATS messages on the subject argus.events (argus.events.NAME for
// "nats://host:port/NAME"; see nats::ParseUrl). Every subscriber, one per web replica, gets
// every event published after Subscribe returned, so whichever replica holds the waiting
// client answers it. At most once, like NATS itself: while the connection is down, events
// wait in nats.c's reconnect buffer and go out after the reconnection; the subscriptions
// are renewed by then too, but events published meanwhile by others are missed. `rest` is
// the URL after "nats://"; kUnavailable when the server cannot be reached now.
Result<std::unique_ptr<EventBus>> OpenNatsEventBus(std::string_view rest);

}  // namespace argus::events
