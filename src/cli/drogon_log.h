#pragma once

#include <string_view>

namespace argus::cli {

// Sends the log lines of Drogon and trantor (database errors, connection trouble), from
// warnings up, to the JSON log as component "drogon", so that every line a process writes
// is one JSON object.
void LogDrogonAsJson();

// The JSON log's level and message of one of trantor's formatted lines
// ("20261206 06:53:56.975306 UTC 28295 ERROR text - File.cc:511\n").
struct DrogonLine {
  std::string_view level;  // "error", "warning", "info" or "debug"
  std::string_view message;
};
DrogonLine ParseDrogonLine(std::string_view line);

}  // namespace argus::cli
