#pragma once

#include <string_view>

namespace argus {

// One JSON line on stderr: {"time_ms", "level", "component", "message"}. Lines from several
// threads never interleave.
void LogLine(std::string_view level, std::string_view component, std::string_view message);

// Writes `json` and its newline to stderr in one write, so that the lines of the processes
// sharing that stderr (serve and its workers) stay whole: written in two, another process's
// line could come between a line and its newline.
void WriteLogLine(std::string_view json);

}  // namespace argus
