#include "common/log.h"

#include <json/json.h>

#include <iostream>
#include <mutex>

#include "common/clock.h"
#include "common/json.h"

namespace argus {

void LogLine(std::string_view level, std::string_view component, std::string_view message) {
  static std::mutex mutex;
  Json::Value line(Json::objectValue);
  line["time_ms"] = static_cast<Json::Int64>(NowMs());
  line["level"] = std::string(level);
  line["component"] = std::string(component);
  line["message"] = std::string(message);
  const std::string text = WriteJson(line);
  std::lock_guard lock(mutex);
  std::cerr << text << '\n';
}

}  // namespace argus
