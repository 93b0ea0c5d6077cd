#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "common/silence_watch.h"

namespace drogon::orm {
class DbClient;
}  // namespace drogon::orm

namespace argus::catalog {

// The SQL engine behind a Drogon client. The SQL text is shared by both; the one
// difference that cannot be written away is how a transaction is held:
//
//   | dialect   | connections | transaction                                          |
//   |-----------|-------------|------------------------------------------------------|
//   | kSqlite   | exactly 1   | "BEGIN IMMEDIATE" … "COMMIT" on that connection,     |
//   |           |             | every call serialised by the catalog's mutex         |
//   | kPostgres | a pool      | Drogon transaction (one pooled connection), commit   |
//   |           |             | awaited through its commit callback                  |
//
// BEGIN IMMEDIATE takes SQLite's write lock up front (waiting up to busy_timeout), so a
// transaction never has to upgrade a read snapshot to a write lock — the case that fails
// at once with "database is locked" when another process wrote in between.
enum class SqlDialect : std::uint8_t { kSqlite, kPostgres };

// One step of the schema history. Statements run in order in one transaction together with
// the schema_migrations row that records the version; one SQL statement per string
// (Drogon's SQLite binding runs exactly one). Append new versions; never edit applied ones.
struct Migration {
  int version;  // 1, 2, 3, ... in order
  std::string_view name;
  std::vector<std::string_view> statements;
};
std::span<const Migration> SchemaMigrations();

struct AppliedMigration {
  int version = 0;
  std::string name;
  std::int64_t applied_at_ms = 0;
};

// The catalog on SQL through drogon::orm::DbClient (SQLite or PostgreSQL).
//
// Statuses: queued → processing → done, or → failed after a final failure; a non-final
// failure puts the image back to queued (its job will be delivered again). "done" is
// terminal: nothing but Remove changes it. A result may still replace a final failure
// (a redelivered job that succeeded).
class SqlCatalog final : public Catalog {
 public:
  // Takes a connected client (SQLite: one connection with its PRAGMAs already set) and
  // applies the pending migrations, each in its own transaction. Safe when several
  // processes open the same database at once: a version is applied exactly once.
  static Result<std::unique_ptr<SqlCatalog>> Open(std::shared_ptr<drogon::orm::DbClient> db,
                                                  SqlDialect dialect);
  // Whether the database holds a catalog's schema, found without writing anything.
  static Result<bool> HasSchema(drogon::orm::DbClient& db, SqlDialect dialect);
  ~SqlCatalog() override;

  Result<AddOutcome> AddUpload(const NewUpload& upload) override;
  Result<void> MarkEnqueued(std::span<const JobMark> marks) override;
  Result<std::vector<JobMark>> ImagesAwaitingJob(std::int64_t before_ms) override;
  Result<std::size_t> ForgetLostJobs(std::int64_t before_ms) override;
  Result<ImageRecord> Get(std::string_view owner, std::string_view id) override;
  Result<ImageRecord> GetImage(std::string_view id) override;
  Result<std::set<std::string>> KnownImages(std::span<const std::string> ids) override;
  Result<ListPage> List(const ListQuery& query) override;
  Result<bool> Remove(std::string_view owner, std::string_view id,
                      const BytesRemover& remove_bytes) override;
  Result<bool> RemoveUploadedBefore(std::string_view owner, std::string_view id,
                                    std::int64_t before_ms,
                                    const BytesRemover& remove_bytes) override;
  Result<AddOutcome> Requeue(std::string_view owner, std::string_view id) override;
  Result<std::vector<std::optional<ImageStatus>>> StartProcessing(std::span<const std::string> ids,
                                                                  std::int64_t now_ms) override;
  Result<std::optional<ImageStatus>> StartProcessingAlone(std::string_view id,
                                                          std::int64_t now_ms) override;
  Result<std::vector<bool>> StoreResults(std::span<const ResultToStore> results,
                                         std::int64_t now_ms) override;
  Result<std::vector<StoredResult>> ResultsWithOutdatedTerms(int limit) override;
  Result<void> ReplaceSearchTerms(std::span<const SearchTermsOfImage> images) override;
  Result<std::vector<bool>> Exist(std::span<const std::string> ids) override;
  Result<void> RecordFailure(std::string_view id, std::string_view error, bool final,
                             std::int64_t now_ms) override;
  Result<StatusCounts> CountByStatus() override;
  Result<UserRecord> CreateUser(std::string_view email, std::string_view password_hash,
                                std::int64_t now_ms) override;
  Result<UserRecord> FindUserByEmail(std::string_view email) override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Result<void> CreateSession(std::string_view token_hash, std::string_view user_id,
                             std::string_view csrf_token, std::int64_t expires_at_ms) override;
  Result<SessionRecord> FindSession(std::string_view token_hash, std::int64_t now_ms) override;
  Result<void> DeleteSession(std::string_view token_hash) override;
  Result<void> SetPasswordHash(std::string_view user_id, std::string_view replaced_hash,
                               std::string_view password_hash,
                               std::string_view kept_session_hash) override;
  Result<void> DeleteUser(std::string_view user_id) override;
  Result<void> MakeAdmin(std::string_view user_id) override;
  Result<std::vector<std::string>> DeletedUsersWithUploads(int limit) override;
  Result<std::vector<std::string>> AnonymousUploadsBefore(std::int64_t before_ms,
                                                          int limit) override;
  Result<TokenRecord> CreateApiToken(std::string_view user_id, std::string_view name,
                                     std::string_view token_hash, std::int64_t now_ms) override;
  Result<std::vector<TokenRecord>> ListApiTokens(std::string_view user_id) override;
  Result<void> RevokeApiToken(std::string_view user_id, std::string_view token_id) override;
  Result<UserRecord> FindUserByApiToken(std::string_view token_hash, std::int64_t now_ms) override;

  // The schema_migrations rows, oldest first (for tests and diagnostics).
  Result<std::vector<AppliedMigration>> AppliedMigrations();

 private:
  SqlCatalog(std::shared_ptr<drogon::orm::DbClient> db, SqlDialect dialect);

  Result<void> Migrate();
  // StartProcessing, and StartProcessingAlone's count of the attempt alone when `alone`.
  Result<std::vector<std::optional<ImageStatus>>> MarkProcessing(std::span<const std::string> ids,
                                                                 std::int64_t now_ms, bool alone);
  // Runs `body(db)` in a transaction, `db` being a statement runner (sql_catalog.cc);
  // commits when it returns a value, rolls back when it returns an error or the database
  // throws. Database exceptions become Errors here.
  template <typename T, typename Body>
  Result<T> InTransaction(std::string_view what, Body&& body);
  // Runs `body(db)` outside a transaction (single statements); SQLite: under the mutex.
  template <typename T, typename Body>
  Result<T> Run(std::string_view what, Body&& body);
  // PostgreSQL: kUnavailable at once while the server is not answering (silence_),
  // and when the client has no connection and gets none within a second, so that callers are
  // not held for the statement timeout while the server is down or silent.
  Result<void> CheckAnswering(std::string_view what);

  std::shared_ptr<drogon::orm::DbClient> db_;
  SqlDialect dialect_;
  // How long one statement may take (PostgreSQL: the migration wait until the migrations
  // are applied, then the answer wait); none for SQLite.
  std::optional<std::chrono::milliseconds> statement_timeout_;
  // PostgreSQL only: from a statement left unanswered until the server answers a probe.
  // Reset before db_ is released: its probe uses the client.
  std::unique_ptr<SilenceWatch> silence_;
  // SQLite only: the single connection must not interleave another caller's statements
  // into an open transaction.
  std::mutex sqlite_mutex_;
};

}  // namespace argus::catalog
