#include "cli/drogon_log.h"

#include <trantor/utils/Logger.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include "common/log.h"
#include "common/repeated_messages.h"

namespace argus::cli {

DrogonLine ParseDrogonLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  // Date, time, time zone, thread id, then the level.
  std::string_view rest = line;
  for (int field = 0; field < 4; ++field) {
    const std::size_t space = rest.find(' ');
    if (space == std::string_view::npos) return {.level = "info", .message = line};
    rest.remove_prefix(space + 1);
  }
  constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kLevels{{
      {"TRACE", "debug"},
      {"DEBUG", "debug"},
      {"INFO", "info"},
      {"WARN", "warning"},
      {"ERROR", "error"},
      {"FATAL", "error"},
      {"SYSERR", "error"},
  }};
  for (const auto& [name, level] : kLevels) {
    if (rest.starts_with(name) && rest.size() > name.size() && rest[name.size()] == ' ') {
      rest.remove_prefix(name.size() + 1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      return {.level = level, .message = rest};
    }
  }
  return {.level = "info", .message = line};
}

void LogDrogonAsJson() {
  trantor::Logger::setLogLevel(trantor::Logger::kWarn);
  trantor::Logger::setOutputFunction(
      [](const char* text, std::uint64_t length) {
        const DrogonLine line = ParseDrogonLine(std::string_view(text, length));
        // While PostgreSQL is down, the client's connections each report every reconnection
        // attempt: four lines a second from every process.
        static RepeatedMessages repeated(std::chrono::seconds(10));
        const std::string message(line.message);
        if (const std::optional<std::uint64_t> held_back = repeated.Admit(message)) {
          LogLine(line.level, "drogon", WithCopiesHeldBack(message, *held_back));
        }
      },
      [] {});
}

}  // namespace argus::cli
