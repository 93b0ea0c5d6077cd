#include "queue/queue.h"

#include <filesystem>

#include "queue/nats_queue.h"
#include "queue/sqlite_queue.h"

namespace argus::queue {
namespace {

// A back end chosen by the scheme of "<scheme>://<rest>".
struct Backend {
  std::string_view scheme;
  std::string_view form;  // how its URLs look, for error messages
  Result<std::unique_ptr<Queue>> (*open)(std::string_view rest, const QueueOptions& options);
};

// "sqlite:///abs/path.db" leaves "/abs/path.db"; "sqlite://rel/path.db" leaves "rel/path.db".
Result<std::unique_ptr<Queue>> OpenSqliteUrl(std::string_view path, const QueueOptions& options) {
  if (path.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue URL sqlite:// names no file: use sqlite:///abs/queue.db or "
                "sqlite://relative/queue.db");
  }
  return OpenSqliteQueue(std::filesystem::path(path), options);
}

constexpr Backend kBackends[] = {
    {"sqlite", "sqlite:///abs/queue.db, sqlite://relative/queue.db", OpenSqliteUrl},
    {"nats", "nats://host:port[/STREAM]", OpenNatsQueue},
};

}  // namespace

Result<std::unique_ptr<Queue>> OpenQueue(std::string_view url, const QueueOptions& options) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    const std::string_view scheme = url.substr(0, scheme_end);
    for (const Backend& backend : kBackends) {
      if (scheme == backend.scheme) return backend.open(url.substr(scheme_end + 3), options);
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
              "unsupported queue URL (it " + shown + "): use " + forms);
}

}  // namespace argus::queue
