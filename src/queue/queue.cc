#include "queue/queue.h"

#include <filesystem>

#include "common/backend_url.h"
#include "queue/nats_queue.h"
#include "queue/sqlite_queue.h"

namespace argus::queue {
namespace {

// "sqlite:///abs/path.db" leaves "/abs/path.db"; "sqlite://rel/path.db" leaves "rel/path.db".
Result<std::unique_ptr<Queue>> OpenSqliteUrl(std::string_view path, const QueueOptions& options) {
  if (path.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "queue URL sqlite:// names no file: use sqlite:///abs/queue.db or "
                "sqlite://relative/queue.db");
  }
  return OpenSqliteQueue(std::filesystem::path(path), options);
}

using Backend = UrlBackend<Result<std::unique_ptr<Queue>> (*)(std::string_view rest,
                                                              const QueueOptions& options)>;

constexpr Backend kBackends[] = {
    {"sqlite", "sqlite:///abs/queue.db, sqlite://relative/queue.db", OpenSqliteUrl},
    {"nats", "nats://host:port[/STREAM]", OpenNatsQueue},
};

}  // namespace

Result<std::unique_ptr<Queue>> OpenQueue(std::string_view url, const QueueOptions& options) {
  auto found = FindUrlBackend("queue", url, kBackends);
  if (!found) return std::unexpected(found.error());
  return found->first->open(found->second, options);
}

}  // namespace argus::queue
