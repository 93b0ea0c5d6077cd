#pragma once

#include <string_view>

#include "common/durability.h"

namespace argus::db {

// The PRAGMA that gives a SQLite connection in WAL mode the durability asked for: NORMAL
// survives a crash of the process, FULL also a power loss (it flushes the log at every
// commit).
constexpr std::string_view SqliteSynchronousPragma(DurabilityLevel durability) {
  return durability == DurabilityLevel::kPowerLoss ? "PRAGMA synchronous = FULL"
                                                   : "PRAGMA synchronous = NORMAL";
}

}  // namespace argus::db
