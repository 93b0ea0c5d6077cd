#include "events/event_bus.h"

#include <filesystem>
#include <string>

#include "events/nats_event_bus.h"
#include "events/unix_socket_event_bus.h"

namespace argus::events {
namespace {

// A back end chosen by the scheme of "<scheme>://<rest>".
struct Backend {
  std::string_view scheme;
  std::string_view form;  // how its URLs look, for error messages
  Result<std::unique_ptr<EventBus>> (*open)(std::string_view rest);
};

Result<std::unique_ptr<EventBus>> OpenUnixUrl(std::string_view path) {
  if (path.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "event bus URL unix:// names no socket: use unix:///abs/path.sock");
  }
  return std::make_unique<UnixSocketEventBus>(std::filesystem::path(path));
}

constexpr Backend kBackends[] = {
    {"unix", "unix:///abs/path.sock", OpenUnixUrl},
    {"nats", "nats://host:port[/NAME]", OpenNatsEventBus},
};

}  // namespace

Result<std::unique_ptr<EventBus>> OpenEventBus(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view scheme = url.substr(0, scheme_end);
    for (const Backend& backend : kBackends) {
      if (scheme == backend.scheme) return backend.open(url.substr(scheme_end + 3));
    }
  }
  // Only the scheme is quoted: the rest of a URL may hold credentials.
  std::string shown = scheme_end == std::string_view::npos
                          ? "has no scheme"
                          : "has scheme \"" + std::string(url.substr(0, scheme_end)) + "\"";
  std::string forms;
  for (const Backend& backend : kBackends) {
    forms += (forms.empty() ? "" : ", ") + std::string(backend.form);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "unsupported event bus URL (it " + shown + "): use " + forms);
}

}  // namespace argus::events
