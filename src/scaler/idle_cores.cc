#include "scaler/idle_cores.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

namespace argus::scaler {
namespace {

// user nice system idle iowait irq softirq steal; guest time is already inside user.
constexpr std::size_t kCounted = 8;
constexpr std::size_t kIdle = 3;
constexpr std::size_t kIoWait = 4;

std::string_view NextField(std::string_view& line) {
  const std::size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return {};
  line.remove_prefix(start);
  const std::size_t end = std::min(line.find(' '), line.size());
  const std::string_view field = line.substr(0, end);
  line.remove_prefix(end);
  return field;
}

}  // namespace

std::optional<CpuTimes> ParseCpuTimes(std::string_view proc_stat) {
  CpuTimes times;
  bool summary_seen = false;
  while (!proc_stat.empty()) {
    const std::size_t end = std::min(proc_stat.find('\n'), proc_stat.size());
    std::string_view line = proc_stat.substr(0, end);
    proc_stat.remove_prefix(std::min(end + 1, proc_stat.size()));
    const std::string_view name = NextField(line);
    if (!name.starts_with("cpu")) continue;
    if (name != "cpu") {
      ++times.cores;
      continue;
    }
    std::array<std::uint64_t, kCounted> fields{};
    for (std::uint64_t& field : fields) {
      const std::string_view text = NextField(line);
      if (std::from_chars(text.data(), text.data() + text.size(), field).ec != std::errc{}) {
        return std::nullopt;
      }
    }
    times.idle = fields[kIdle] + fields[kIoWait];
    for (std::uint64_t field : fields) times.total += field;
    summary_seen = true;
  }
  if (!summary_seen || times.cores == 0) return std::nullopt;
  return times;
}

std::optional<double> IdleCoresBetween(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.idle < before.idle || after.cores <= 0) {
    return std::nullopt;
  }
  const auto idle = static_cast<double>(after.idle - before.idle);
  return after.cores * std::min(1.0, idle / static_cast<double>(after.total - before.total));
}

std::optional<double> IdleCoresMeter::Sample() {
  std::ifstream file("/proc/stat");
  std::ostringstream text;
  text << file.rdbuf();
  const std::optional<CpuTimes> now = ParseCpuTimes(text.str());
  std::optional<double> idle;
  if (now && previous_) idle = IdleCoresBetween(*previous_, *now);
  if (now) previous_ = now;
  return idle;
}

}  // namespace argus::scaler
