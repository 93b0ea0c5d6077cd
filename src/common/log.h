#pragma once

#include <string>
#include <string_view>

namespace argus {

// One JSON line on stderr: {"time_ms", "level", "component", "message"}, and "request_id"
// on a thread handling a request (RequestLogScope). Lines from several threads never
// interleave.
void LogLine(std::string_view level, std::string_view component, std::string_view message);

// While one lives, the lines LogLine writes on its thread name the request the thread
// handles, so that an error line can be matched with the request's access line.
class RequestLogScope {
 public:
  explicit RequestLogScope(std::string request_id);
  ~RequestLogScope();
  RequestLogScope(const RequestLogScope&) = delete;
  RequestLogScope& operator=(const RequestLogScope&) = delete;

 private:
  std::string outer_;  // the scope this one is nested in, if any
};

// Writes `json` and its newline to stderr in one write, so that the lines of the processes
// sharing that stderr (serve and its workers) stay whole: written in two, another process's
// line could come between a line and its newline.
void WriteLogLine(std::string_view json);

}  // namespace argus
