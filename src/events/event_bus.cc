#include "events/event_bus.h"

#include <filesystem>
#include <string>

#include "common/backend_url.h"
#include "events/nats_event_bus.h"
#include "events/unix_socket_event_bus.h"

namespace argus::events {
namespace {

Result<std::unique_ptr<EventBus>> OpenUnixUrl(std::string_view path) {
  if (path.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "event bus URL unix:// names no socket: use unix:///abs/path.sock");
  }
  return std::make_unique<UnixSocketEventBus>(std::filesystem::path(path));
}

using Backend = UrlBackend<Result<std::unique_ptr<EventBus>> (*)(std::string_view rest)>;

constexpr Backend kBackends[] = {
    {"unix", "unix:///abs/path.sock", OpenUnixUrl},
    {"nats", "nats://host:port[/NAME]", OpenNatsEventBus},
};

}  // namespace

Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url) {
  auto found = FindUrlBackend("event bus", url, kBackends);
  if (!found) return std::unexpected(found.error());
  return found->first->open(found->second);
}

}  // namespace argus::events
