#include "catalog/catalog.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "catalog/catalog_url.h"
#include "catalog/sql_catalog.h"

namespace argus::catalog {
namespace {

namespace orm = drogon::orm;

// PRAGMAs of the single SQLite connection. busy_timeout comes first so that switching to
// WAL waits for, rather than fails on, another process opening the file at the same time.
constexpr std::string_view kSqlitePragmas[] = {
    "PRAGMA busy_timeout = 5000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
};
// Waits for successive attempts: 20, 40, ... 2560 ms (about 5 s in all).
constexpr std::chrono::milliseconds kSqliteFirstOpenWait{20};
constexpr std::chrono::milliseconds kSqliteLastOpenWait{2560};
constexpr std::chrono::milliseconds kPostgresConnectWait{10000};
constexpr std::size_t kPostgresConnections = 4;

bool WaitForConnection(const orm::DbClient& db, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!db.hasAvailableConnections()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

Result<std::unique_ptr<Catalog>> Opened(Result<std::unique_ptr<SqlCatalog>> catalog) {
  if (!catalog) return std::unexpected(catalog.error());
  return std::unique_ptr<Catalog>(std::move(*catalog));
}

// A client that never connected is kept, never destroyed: closing and dropping one whose
// connection callback is still pending inside Drogon corrupted memory that later crashed
// the HTTP server's main loop (start-up crashes seen only when a client had been replaced).
// This happens in a few percent of opens and costs one idle thread each.
void Abandon(std::shared_ptr<orm::DbClient> db) {
  static std::mutex mutex;
  static auto* abandoned = new std::vector<std::shared_ptr<orm::DbClient>>;
  std::lock_guard lock(mutex);
  abandoned->push_back(std::move(db));
}

Result<void> ConfigureSqlite(orm::DbClient& db, const CatalogUrl& url);

// Switching a new database to WAL needs an exclusive lock, and SQLite does not wait on the
// busy timeout for it: processes opening a fresh database together retry for a while.
Result<void> ConfigureSqliteRetrying(orm::DbClient& db, const CatalogUrl& url) {
  for (int attempt = 1;; ++attempt) {
    auto configured = ConfigureSqlite(db, url);
    if (configured || attempt == 100 ||
        configured.error().message.find("locked") == std::string::npos) {
      return configured;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<void> ConfigureSqlite(orm::DbClient& db, const CatalogUrl& url) {
  try {
    for (std::string_view pragma : kSqlitePragmas) {
      orm::Result result = db.execSqlSync(std::string(pragma));
      if (pragma.find("journal_mode") != std::string_view::npos && url.sqlite_path != ":memory:") {
        std::string mode = result.empty() ? "" : result[0][0].as<std::string>();
        if (mode != "wal") {
          return Fail(ErrorCode::kIo, "catalog: " + url.redacted +
                                          " cannot use write-ahead logging (journal mode \"" +
                                          mode + "\")");
        }
      }
    }
  } catch (const orm::DrogonDbException& e) {
    return Fail(ErrorCode::kIo, "catalog: opening " + url.redacted + ": " + e.base().what());
  }
  return {};
}

Result<std::unique_ptr<Catalog>> OpenSqlite(const CatalogUrl& url) {
  namespace fs = std::filesystem;
  const std::string& path = url.sqlite_path;
  if (path != ":memory:") {
    std::error_code ec;
    fs::path file(path);
    fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    if (!fs::is_directory(dir, ec)) {
      return Fail(ErrorCode::kIo, "catalog: directory \"" + dir.string() + "\" of " + url.redacted +
                                      " does not exist");
    }
    if (fs::is_directory(file, ec)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "catalog: " + url.redacted + " names a directory, not a database file");
    }
  }
  // Drogon 1.9 opens the SQLite connection on the connection's own thread and can report it
  // ready before the client has installed its callback; the client then never uses it
  // (seen in several percent of opens). Opening takes well under a millisecond, so a client
  // that is not ready soon is replaced.
  std::shared_ptr<orm::DbClient> db;
  for (auto wait = kSqliteFirstOpenWait; wait <= kSqliteLastOpenWait && !db; wait *= 2) {
    db = orm::DbClient::newSqlite3Client("filename=" + QuoteConnValue(path), 1);
    if (db && !WaitForConnection(*db, wait)) Abandon(std::move(db));
  }
  if (!db) {
    return Fail(ErrorCode::kIo, "catalog: cannot open SQLite database " + url.redacted);
  }
  if (auto configured = ConfigureSqliteRetrying(*db, url); !configured) {
    ReleaseDbClient(std::move(db));
    return std::unexpected(configured.error());
  }
  return Opened(SqlCatalog::Open(std::move(db), SqlDialect::kSqlite));
}

Result<std::unique_ptr<Catalog>> OpenPostgres(const CatalogUrl& url) {
  auto db = orm::DbClient::newPgClient(url.pg_conninfo, kPostgresConnections);
  // Drogon retries a failed connection every second; give up after connect_timeout when
  // the URL sets one.
  auto wait = url.pg_connect_timeout_s > 0
                  ? std::chrono::milliseconds(url.pg_connect_timeout_s * 1000)
                  : kPostgresConnectWait;
  if (!db || !WaitForConnection(*db, wait)) {
    ReleaseDbClient(std::move(db));
    return Fail(ErrorCode::kUnavailable, "catalog: cannot connect to " + url.redacted);
  }
  return Opened(SqlCatalog::Open(std::move(db), SqlDialect::kPostgres));
}

}  // namespace

std::string_view StatusName(ImageStatus status) {
  switch (status) {
    case ImageStatus::kQueued:
      return "queued";
    case ImageStatus::kProcessing:
      return "processing";
    case ImageStatus::kDone:
      return "done";
    case ImageStatus::kFailed:
      return "failed";
  }
  return "queued";
}

Result<std::unique_ptr<Catalog>> OpenCatalog(std::string_view url) {
  auto parsed = ParseCatalogUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  try {
    switch (parsed->kind) {
      case CatalogUrl::Kind::kSqlite:
        return OpenSqlite(*parsed);
      case CatalogUrl::Kind::kPostgres:
        return OpenPostgres(*parsed);
    }
    return Fail(ErrorCode::kInternal, "catalog: unknown database kind");
  } catch (const orm::DrogonDbException& e) {
    return Fail(ErrorCode::kIo,
                "catalog: opening " + parsed->redacted + ": " + std::string(e.base().what()));
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal,
                "catalog: opening " + parsed->redacted + ": " + std::string(e.what()));
  }
}

}  // namespace argus::catalog
