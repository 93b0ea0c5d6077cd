#include "events/event_bus.h"

#include "events/unix_socket_event_bus.h"

namespace argus::events {

Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url) {
  constexpr std::string_view kUnix = "unix://";
  if (url.starts_with(kUnix) && url.size() > kUnix.size()) {
    return std::make_unique<UnixSocketEventBus>(std::filesystem::path(url.substr(kUnix.size())));
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unsupported event bus URL \"" + std::string(url) + "\" (expected unix:///path)");
}

}  // namespace argus::events
