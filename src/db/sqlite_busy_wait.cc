#include "db/sqlite_busy_wait.h"

#include <sqlite3.h>

#include <algorithm>
#include <mutex>
#include <thread>

namespace argus::db {
namespace {

using std::chrono::microseconds;

constexpr microseconds kFirstStep{20};
constexpr microseconds kLongestStep{1000};

microseconds Step(int attempt) {
  return attempt >= 6 ? kLongestStep : std::min(kLongestStep, kFirstStep * (1 << attempt));
}

// SQLite calls this with the number of times it already did for the same wait; returning
// 0 gives up with SQLITE_BUSY.
int WaitForLock(void* /*unused*/, int attempt) {
  // The steps are fixed, so the time waited so far follows from the attempt number.
  microseconds waited{0};
  for (int i = 0; i < std::min(attempt, 6); ++i) waited += Step(i);
  if (attempt > 6) waited += kLongestStep * (attempt - 6);
  if (waited >= kSqliteBusyTimeout) return 0;
  std::this_thread::sleep_for(Step(attempt));
  return 1;
}

int InstallOnConnection(sqlite3* db, const char** /*error*/, const sqlite3_api_routines* /*api*/) {
  sqlite3_busy_handler(db, WaitForLock, nullptr);
  return SQLITE_OK;
}

}  // namespace

void InstallSqliteBusyWait() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    // The entry point's declared type takes no arguments; SQLite calls it with three.
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(InstallOnConnection));
  });
}

}  // namespace argus::db
