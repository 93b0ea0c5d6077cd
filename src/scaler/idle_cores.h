#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace argus::scaler {

// The machine's CPU time counters, summed over its cores, in clock ticks (the first line
// of /proc/stat).
struct CpuTimes {
  std::uint64_t idle = 0;   // idle and waiting for I/O
  std::uint64_t total = 0;  // everything, stolen time included
  int cores = 0;            // online cores
};

std::optional<CpuTimes> ParseCpuTimes(std::string_view proc_stat);

// How many cores were idle on average between two readings.
std::optional<double> IdleCoresBetween(const CpuTimes& before, const CpuTimes& after);

// Idle cores over the time since the previous Sample(): the scaler asks each tick whether
// the machine has room for one more worker.
class IdleCoresMeter {
 public:
  // Unknown on the first call and where /proc/stat cannot be read.
  std::optional<double> Sample();

 private:
  std::optional<CpuTimes> previous_;
};

}  // namespace argus::scaler
