#include "catalog/catalog.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <system_error>

#include "catalog/catalog_url.h"
#include "catalog/sql_catalog.h"
#include "db/drogon_client.h"
#include "db/postgres_connection.h"
#include "db/sqlite_synchronous.h"
#include "db/sqlite_wal.h"

namespace argus::catalog {
namespace {

namespace orm = drogon::orm;

constexpr std::chrono::milliseconds kPostgresConnectWait{10000};
constexpr std::size_t kPostgresConnections = 4;

Result<std::unique_ptr<Catalog>> Opened(Result<std::unique_ptr<SqlCatalog>> catalog) {
  if (!catalog) return std::unexpected(catalog.error());
  return std::unique_ptr<Catalog>(std::move(*catalog));
}

// Waits for busy locks are set up when the connection opens (db::InstallSqliteBusyWait).
Result<void> ConfigureSqlite(orm::DbClient& db, const CatalogUrl& url, DurabilityLevel durability) {
  if (url.sqlite_path != ":memory:") {
    if (auto wal = db::UseWriteAheadLog(db); !wal) {
      return Fail(ErrorCode::kIo, "catalog: " + url.redacted + ": " + wal.error().message);
    }
  }
  try {
    db.execSqlSync(std::string(db::SqliteSynchronousPragma(durability)));
    db.execSqlSync("PRAGMA foreign_keys = ON");
  } catch (const orm::DrogonDbException& e) {
    return Fail(ErrorCode::kIo, "catalog: opening " + url.redacted + ": " + e.base().what());
  }
  return {};
}

// Before anything is written to the database: switching a new SQLite file to WAL mode writes
// its header.
Result<void> CheckSchema(orm::DbClient& db, SqlDialect dialect, const CatalogUrl& url,
                         SchemaUse schema) {
  if (schema == SchemaUse::kCreateWhenMissing) return {};
  auto found = SqlCatalog::HasSchema(db, dialect);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return Fail(ErrorCode::kNotFound,
                "catalog: " + url.redacted +
                    " holds no Argus catalog (no schema_migrations table); argus serve or "
                    "argus web makes one at its first start");
  }
  return {};
}

Result<std::unique_ptr<Catalog>> OpenSqlite(const CatalogUrl& url, DurabilityLevel durability,
                                            SchemaUse schema) {
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
  auto opened = db::OpenSqliteClient(path);
  if (!opened)
    return Fail(ErrorCode::kIo, "catalog: " + url.redacted + ": " + opened.error().message);
  std::shared_ptr<orm::DbClient> db = std::move(*opened);
  auto ready = CheckSchema(*db, SqlDialect::kSqlite, url, schema).and_then([&] {
    return ConfigureSqlite(*db, url, durability);
  });
  if (!ready) {
    db::ReleaseDbClient(std::move(db));
    return std::unexpected(ready.error());
  }
  return Opened(SqlCatalog::Open(std::move(db), SqlDialect::kSqlite));
}

Result<std::unique_ptr<Catalog>> OpenPostgres(const CatalogUrl& url, SchemaUse schema) {
  // A connect_timeout in the URL bounds the whole wait, as it would bound one connection.
  auto wait = url.pg_connect_timeout_s > 0
                  ? std::chrono::milliseconds(url.pg_connect_timeout_s * 1000)
                  : kPostgresConnectWait;
  auto db = db::OpenPostgresClient(url.pg_conninfo, kPostgresConnections, wait);
  if (!db) return Fail(db.error().code, "catalog: " + url.redacted + ": " + db.error().message);
  if (auto checked = CheckSchema(**db, SqlDialect::kPostgres, url, schema); !checked) {
    db::ReleaseDbClient(std::move(*db));
    return std::unexpected(checked.error());
  }
  return Opened(SqlCatalog::Open(std::move(*db), SqlDialect::kPostgres));
}

}  // namespace

bool IsFinal(ImageStatus status) {
  return status == ImageStatus::kDone || status == ImageStatus::kFailed;
}

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

Result<std::size_t> ReindexOutdatedSearchTerms(
    Catalog& catalog,
    const std::function<std::vector<std::string>(std::string_view result_json)>& terms_of,
    const std::stop_token& stop, const std::function<void(std::size_t reindexed)>& progress) {
  // One transaction per batch: short enough not to hold other writers up for long.
  constexpr int kBatch = 200;
  std::size_t reindexed = 0;
  while (!stop.stop_requested()) {
    auto outdated = catalog.ResultsWithOutdatedTerms(kBatch);
    if (!outdated) return std::unexpected(outdated.error());
    if (outdated->empty()) return reindexed;
    std::vector<SearchTermsOfImage> batch;
    batch.reserve(outdated->size());
    for (const StoredResult& result : *outdated) {
      batch.push_back({.image_id = result.image_id, .terms = terms_of(result.result_json)});
    }
    if (auto replaced = catalog.ReplaceSearchTerms(batch); !replaced) {
      return std::unexpected(replaced.error());
    }
    reindexed += batch.size();
    if (progress) progress(reindexed);
  }
  return reindexed;
}

Result<std::unique_ptr<Catalog>> OpenCatalog(std::string_view url, DurabilityLevel durability,
                                             SchemaUse schema) {
  auto parsed = ParseCatalogUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  try {
    switch (parsed->kind) {
      case CatalogUrl::Kind::kSqlite:
        return OpenSqlite(*parsed, durability, schema);
      case CatalogUrl::Kind::kPostgres:
        return OpenPostgres(*parsed, schema);
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
