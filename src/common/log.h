#pragma once

#include <string_view>

namespace argus {

// One JSON line on stderr: {"time_ms", "level", "component", "message"}. Lines from several
// threads never interleave.
void LogLine(std::string_view level, std::string_view component, std::string_view message);

}  // namespace argus
