#include "db/sqlite_wal.h"

#include <drogon/orm/Exception.h>

#include <chrono>
#include <string>
#include <thread>

#include "db/sqlite_errors.h"

namespace argus::db {
namespace {

constexpr int kAttempts = 100;
constexpr std::chrono::milliseconds kRetryDelay{20};

// The journal mode SQLite reports after the switch, or the error that stopped it.
Result<std::string> SwitchToWal(drogon::orm::DbClient& db) {
  try {
    const drogon::orm::Result rows = db.execSqlSync("PRAGMA journal_mode = WAL");
    return rows.empty() ? std::string() : rows[0][0].as<std::string>();
  } catch (const drogon::orm::DrogonDbException& e) {
    const std::string reason = e.base().what();
    if (IsDamaged(reason)) {
      // Waiting does not mend it, and the operator has to choose what is lost.
      return Fail(ErrorCode::kCorrupt,
                  reason +
                      ": the file is damaged, or is not this store's; with every argus process "
                      "using it stopped, restore it from a copy, or move it aside to start with "
                      "an empty one");
    }
    return Fail(ErrorCode::kUnavailable, "cannot switch to write-ahead logging: " + reason);
  }
}

}  // namespace

Result<void> UseWriteAheadLog(drogon::orm::DbClient& db) {
  auto mode = SwitchToWal(db);
  for (int attempt = 1; !mode && IsLocked(mode.error().message) && attempt < kAttempts; ++attempt) {
    std::this_thread::sleep_for(kRetryDelay);
    mode = SwitchToWal(db);
  }
  if (!mode) return std::unexpected(mode.error());
  if (*mode != "wal") {
    return Fail(ErrorCode::kUnavailable,
                "SQLite cannot keep a write-ahead log here (journal mode \"" + *mode +
                    "\"); use a file on a local file system");
  }
  return {};
}

}  // namespace argus::db
