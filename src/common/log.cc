#include "common/log.h"

#include <json/json.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>
#include <utility>

#include "common/clock.h"
#include "common/json.h"

namespace argus {
namespace {

thread_local std::string request_in_hand;

}  // namespace

RequestLogScope::RequestLogScope(std::string request_id)
    : outer_(std::exchange(request_in_hand, std::move(request_id))) {}

RequestLogScope::~RequestLogScope() { request_in_hand = std::move(outer_); }

void LogLine(std::string_view level, std::string_view component, std::string_view message) {
  static std::mutex mutex;
  Json::Value line(Json::objectValue);
  line["time_ms"] = static_cast<Json::Int64>(NowMs());
  line["level"] = std::string(level);
  line["component"] = std::string(component);
  line["message"] = std::string(message);
  if (!request_in_hand.empty()) line["request_id"] = request_in_hand;
  const std::string text = WriteJson(line);
  std::lock_guard lock(mutex);
  WriteLogLine(text);
}

void WriteLogLine(std::string_view json) {
  std::string text;
  text.reserve(json.size() + 1);
  text.append(json).push_back('\n');
  // A write of up to PIPE_BUF bytes to a pipe is never split; a longer one, or one cut short
  // by a signal, goes on from where it stopped.
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // stderr is gone: nowhere left to say so
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace argus
