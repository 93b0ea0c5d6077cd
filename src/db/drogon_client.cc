#include "db/drogon_client.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <format>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "db/sqlite_busy_wait.h"

namespace argus::db {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kInMemoryOpenWait{20};
constexpr milliseconds kOpenWait{10'000};

void Abandon(std::shared_ptr<drogon::orm::DbClient> db) {
  static std::mutex mutex;
  static auto* abandoned = new std::vector<std::shared_ptr<drogon::orm::DbClient>>;
  std::lock_guard lock(mutex);
  abandoned->push_back(std::move(db));
}

// Drogon sets SQLite's threading mode when it creates its first connection, which SQLite
// allows only until something initialises it, and installing the busy wait does; in the
// other order Drogon logged "FATAL SQLITE_CONFIG_MULTITHREAD is not supported!" at every
// start (harmless: SQLite then serialises calls Drogon already keeps apart). So the
// process's first client, on an in-memory database, comes before the busy wait. It comes
// before ClientCreationLock too, so it can lose Drogon's race; then it is abandoned, as its
// connection exists by then.
void LetDrogonConfigureSqlite() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto first = drogon::orm::DbClient::newSqlite3Client("filename=:memory:", 1);
    if (!first) return;
    if (WaitForConnection(*first, kInMemoryOpenWait)) {
      ReleaseDbClient(std::move(first));
    } else {
      Abandon(std::move(first));
    }
  });
}

// Drogon 1.9 starts a SQLite connection's open on the connection's own thread before it
// installs the callback that marks the connection ready (DbClientImpl::newConnection calls
// Sqlite3Connection::init first). An open that won that race left its client without a
// connection for good: 11 of 200 opens here, 9 of 200 with both cores busy. So a client is
// made while this lock is held, and every SQLite open waits for the lock before it returns,
// from an auto extension (which SQLite runs inside sqlite3_open).
std::mutex& ClientCreationLock() {
  static std::mutex lock;
  return lock;
}

int WaitForClientCreation(sqlite3* /*unused*/, const char** /*error*/,
                          const sqlite3_api_routines* /*api*/) {
  std::lock_guard created(ClientCreationLock());
  return SQLITE_OK;
}

// After LetDrogonConfigureSqlite: registering an auto extension initialises SQLite.
void MakeOpensWaitForClientCreation() {
  static std::once_flag once;
  std::call_once(once, [] {
    // The entry point's declared type takes no arguments; SQLite calls it with three.
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(WaitForClientCreation));
  });
}

}  // namespace

std::string QuoteConnValue(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool WaitForConnection(const drogon::orm::DbClient& db, milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!db.hasAvailableConnections()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

Result<std::shared_ptr<drogon::orm::DbClient>> OpenSqliteClient(const std::string& path) {
  if (path != ":memory:") {
    // A connection that cannot open its file fails inside Drogon, which logs it, retries on
    // a timer and, once the attempt is given up, aborts the process as the timer's thread
    // joins itself; so the file is opened (and created) here first, and its folder, where
    // SQLite makes its journal files, must be writable.
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Fail(ErrorCode::kIo, std::format("cannot open SQLite database {}: {}", path,
                                              std::generic_category().message(errno)));
    }
    ::close(fd);
    const std::filesystem::path folder = std::filesystem::absolute(path).parent_path();
    if (::access(folder.c_str(), W_OK) != 0) {
      return Fail(ErrorCode::kIo,
                  std::format("cannot write in {}, the folder of SQLite database {}: {}",
                              folder.string(), path, std::generic_category().message(errno)));
    }
  }
  // One connection: SQLite has one writer per file anyway, and PRAGMAs and migration
  // transactions need every statement on the same connection.
  const std::string connection = "filename=" + QuoteConnValue(path);
  LetDrogonConfigureSqlite();
  InstallSqliteBusyWait();
  MakeOpensWaitForClientCreation();
  std::shared_ptr<drogon::orm::DbClient> db;
  {
    std::lock_guard creating(ClientCreationLock());
    db = drogon::orm::DbClient::newSqlite3Client(connection, 1);
  }
  if (!db) return Fail(ErrorCode::kUnavailable, "Drogon was built without SQLite support");
  if (WaitForConnection(*db, kOpenWait)) return db;
  Abandon(std::move(db));
  return Fail(ErrorCode::kUnavailable, "cannot open SQLite database " + path);
}

void ReleaseDbClient(std::shared_ptr<drogon::orm::DbClient> db) {
  if (!db) return;
  // Closing a client destroys its connections' event loops on the closing thread, and
  // trantor's ~EventLoop forgets that thread's own loop. Done on the main thread before the
  // HTTP server runs, that left Drogon's main loop unknown to its own thread: Drogon then
  // indexed its per-thread storage with -1, reading memory before it, and crashed there in
  // about one start in six (every start, with some heap layouts). So the client is closed
  // and let go on a thread of its own.
  std::thread([db = std::move(db)]() mutable {
    db->closeAll();
    // Wait until ours has been the only reference for a few milliseconds in a row (at most
    // 2 s), and let go right at the last look. A PostgreSQL client that cannot connect
    // retries every second, each retry holding a reference for a moment; this loop used to
    // sleep between its last look and letting go, and a retry in that millisecond was left
    // with the last reference, on the client's own thread ("Resource deadlock avoided", once
    // in 20-40 failed opens).
    for (int checks = 0, quiet = 0; checks < 2000; ++checks) {
      quiet = db.use_count() == 1 ? quiet + 1 : 0;
      if (quiet == 3) break;
      std::this_thread::sleep_for(milliseconds(1));
    }
    db.reset();
  }).join();
}

}  // namespace argus::db
