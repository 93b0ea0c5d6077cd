#pragma once

#include <chrono>

namespace argus::db {

// How long a SQLite statement waits for a lock held by another connection or process.
inline constexpr std::chrono::milliseconds kSqliteBusyTimeout{5000};

// Makes every SQLite connection this process opens from now on wait for a busy lock in
// short steps: 20 µs, doubling to 1 ms, for kSqliteBusyTimeout in all.
//
// SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25, ... ms between attempts. Our
// transactions hold a lock for well under a millisecond, so under load those sleeps, not
// the holders, made the waits: single waits of 19 ms when a burst of uploads met a worker
// storing results. Connections opened by Drogon are reached through sqlite3_auto_extension,
// so the handler is in place before the first statement. "PRAGMA busy_timeout" would
// replace it; do not issue one.
void InstallSqliteBusyWait();

}  // namespace argus::db
