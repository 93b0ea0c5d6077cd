#pragma once

#include <cstdint>
#include <string_view>

namespace argus {

// What a write the service has acknowledged survives (--durability): the promise made to a
// client whose upload was accepted. It applies to the stores on this machine — the SQLite
// catalog and queue and the local blob folder; PostgreSQL, NATS JetStream and S3 keep
// their own servers' settings.
enum class DurabilityLevel : std::uint8_t {
  // A crash of any process (kill -9 included): acknowledged writes are in the kernel's page
  // cache, which outlives the process; the last ones may be lost with the machine.
  kProcessCrash,
  // Also a power loss or a crash of the machine: every acknowledged write was flushed to
  // stable storage first (fsync), at the price of the flushes.
  kPowerLoss,
};

// The --durability value: "process" or "power".
constexpr std::string_view DurabilityName(DurabilityLevel durability) {
  return durability == DurabilityLevel::kPowerLoss ? "power" : "process";
}

}  // namespace argus
