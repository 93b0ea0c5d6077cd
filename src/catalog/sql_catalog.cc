#include "catalog/sql_catalog.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <exception>
#include <format>
#include <future>
#include <initializer_list>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "common/ascii.h"
#include "common/base64.h"
#include "common/clock.h"
#include "common/utf8.h"
#include "db/drogon_client.h"
#include "db/select_one_probe.h"
#include "db/sqlite_errors.h"

namespace argus::catalog {
namespace {

namespace orm = drogon::orm;

// ---------------------------------------------------------------------------------------
// Schema. Portable SQL only (SQLite 3.35+ and PostgreSQL 12+): TEXT, INTEGER, BIGINT,
// DOUBLE PRECISION, NOT NULL defaults instead of NULLs, partial indexes, ON CONFLICT.

const std::vector<Migration>& MigrationList() {
  static const std::vector<Migration> migrations = {
      {1,
       "images, uploads, image_terms",
       {
           // One row per distinct content (id = sha256 hex of the bytes).
           "CREATE TABLE images ("
           " id TEXT NOT NULL PRIMARY KEY,"
           " content_type TEXT NOT NULL DEFAULT '',"
           " size_bytes BIGINT NOT NULL DEFAULT 0,"
           " width INTEGER NOT NULL DEFAULT 0,"
           " height INTEGER NOT NULL DEFAULT 0,"
           " status TEXT NOT NULL DEFAULT 'queued'"
           "  CHECK (status IN ('queued', 'processing', 'done', 'failed')),"
           " error TEXT NOT NULL DEFAULT '',"
           " result_json TEXT NOT NULL DEFAULT '',"
           " model TEXT NOT NULL DEFAULT '',"
           " attempts INTEGER NOT NULL DEFAULT 0,"
           " created_at_ms BIGINT NOT NULL,"
           " started_at_ms BIGINT NOT NULL DEFAULT 0,"
           " finished_at_ms BIGINT NOT NULL DEFAULT 0,"
           " inference_ms DOUBLE PRECISION NOT NULL DEFAULT 0,"
           " job_enqueued INTEGER NOT NULL DEFAULT 0)",
           // Start-up re-enqueue scan: only the few rows still waiting for a job.
           "CREATE INDEX images_awaiting_job ON images (created_at_ms) WHERE job_enqueued = 0",
           "CREATE INDEX images_by_status ON images (status)",
           // One row per (owner, content): the owner's gallery entry.
           "CREATE TABLE uploads ("
           " owner TEXT NOT NULL,"
           " image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
           " filename TEXT NOT NULL DEFAULT '',"
           " uploaded_at_ms BIGINT NOT NULL,"
           " PRIMARY KEY (owner, image_id))",
           // Newest-first keyset pagination per owner (scanned backwards).
           "CREATE INDEX uploads_by_owner_time ON uploads (owner, uploaded_at_ms, image_id)",
           // "Is any owner left?" on Remove, and the cascade from images.
           "CREATE INDEX uploads_by_image ON uploads (image_id)",
           // Lowercased search words of a result: labels and their parent categories.
           ("CREATE TABLE image_terms ("
            " image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
            " term TEXT NOT NULL,"
            " PRIMARY KEY (image_id, term))"),
           "CREATE INDEX image_terms_by_term ON image_terms (term, image_id)",
       }},
      {2,
       "users, sessions, api_tokens",
       {
           "CREATE TABLE users ("
           " id TEXT NOT NULL PRIMARY KEY,"
           " email TEXT NOT NULL UNIQUE,"
           " password_hash TEXT NOT NULL,"
           " is_admin INTEGER NOT NULL DEFAULT 0,"
           " created_at_ms BIGINT NOT NULL)",
           // Keyed by the sha256 of the cookie's token, so a leaked table opens no session.
           "CREATE TABLE sessions ("
           " token_hash TEXT NOT NULL PRIMARY KEY,"
           " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
           " csrf_token TEXT NOT NULL,"
           " expires_at_ms BIGINT NOT NULL)",
           "CREATE INDEX sessions_by_expiry ON sessions (expires_at_ms)",
           "CREATE TABLE api_tokens ("
           " id TEXT NOT NULL PRIMARY KEY,"
           " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
           " name TEXT NOT NULL,"
           " token_hash TEXT NOT NULL UNIQUE,"
           " created_at_ms BIGINT NOT NULL,"
           " last_used_at_ms BIGINT NOT NULL DEFAULT 0)",
           "CREATE INDEX api_tokens_by_user ON api_tokens (user_id, created_at_ms)",
       }},
      {3,
       "images.terms_version",
       {
           // The rule the image's search terms were made by (kSearchTermsVersion): results
           // stored before, indexed without WordNet ancestors, have 0 and are indexed again.
           "ALTER TABLE images ADD COLUMN terms_version INTEGER NOT NULL DEFAULT 0",
           // Finding them takes no scan of every finished image at each start. (SQLite
           // without ANALYZE preferred images_by_status to a partial index of just them.)
           // It serves lookups by status too, so it replaces images_by_status.
           "CREATE INDEX images_by_status_and_terms_version ON images (status, terms_version)",
           "DROP INDEX images_by_status",
       }},
      {4,
       "deleted_users",
       {
           // The ids of deleted accounts (ids are random, never reused): an upload that was
           // on its way when its account was deleted is refused rather than left owned by
           // an account that no longer exists.
           "CREATE TABLE deleted_users ("
           " id TEXT NOT NULL PRIMARY KEY,"
           " deleted_at_ms BIGINT NOT NULL)",
       }},
      {5,
       "images.solo_attempts",
       {
           // Attempts with no other image in the worker's hands (ImageRecord::solo_attempts).
           "ALTER TABLE images ADD COLUMN solo_attempts INTEGER NOT NULL DEFAULT 0",
       }},
  };
  return migrations;
}

constexpr std::string_view kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at_ms BIGINT NOT NULL)";
// CREATE TABLE IF NOT EXISTS on a table that exists has PostgreSQL send a notice, which
// libpq prints on stderr as plain text at every start; so the table is looked for first.
constexpr std::string_view kMigrationsTableExistsPostgres =
    "SELECT (to_regclass('schema_migrations') IS NOT NULL)::int";
// Held to the end of the transaction; the number is Argus's own, any fixed one would do.
constexpr std::string_view kLockMigrationsPostgres = "SELECT pg_advisory_xact_lock(546033)::text";
constexpr std::string_view kMigrationsTableExistsSqlite =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr std::string_view kClaimMigration =
    "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)"
    " ON CONFLICT (version) DO NOTHING";
constexpr std::string_view kSelectMigrations =
    "SELECT version, name, applied_at_ms FROM schema_migrations ORDER BY version";

// ---------------------------------------------------------------------------------------
// Statements. Placeholders are numbered in order of first appearance (SQLite binds them
// positionally). Parameter C++ types match the column types exactly: PostgreSQL receives
// integers in binary form, so int goes with INTEGER and std::int64_t with BIGINT.

// Columns 0..15 of the image, 16..18 of the owner's upload.
#define ARGUS_IMAGE_COLUMNS                                                                   \
  "i.id, i.content_type, i.size_bytes, i.width, i.height, i.status, i.error, i.result_json,"  \
  " i.model, i.attempts, i.created_at_ms, i.started_at_ms, i.finished_at_ms, i.inference_ms," \
  " i.job_enqueued, i.solo_attempts"
#define ARGUS_UPLOAD_COLUMNS ARGUS_IMAGE_COLUMNS ", u.owner, u.filename, u.uploaded_at_ms"

// The DO UPDATE locks an existing image row (PostgreSQL), which serialises AddUpload against
// a concurrent Remove of the same content. It changes only a failed image, which uploading
// again gives another round of attempts: it may have failed for want of disk space, or of a
// database that was away. The round's times start anew, so its timings are its own.
constexpr std::string_view kInsertImage =
    "INSERT INTO images (id, content_type, size_bytes, width, height, created_at_ms)"
    " VALUES ($1, $2, $3, $4, $5, $6)"
    " ON CONFLICT (id) DO UPDATE SET"
    " status = CASE WHEN images.status = 'failed' THEN 'queued' ELSE images.status END,"
    " error = CASE WHEN images.status = 'failed' THEN '' ELSE images.error END,"
    " attempts = CASE WHEN images.status = 'failed' THEN 0 ELSE images.attempts END,"
    " solo_attempts = CASE WHEN images.status = 'failed' THEN 0 ELSE images.solo_attempts END,"
    " finished_at_ms = CASE WHEN images.status = 'failed' THEN 0 ELSE images.finished_at_ms END,"
    " started_at_ms = CASE WHEN images.status = 'failed' THEN 0 ELSE images.started_at_ms END,"
    " created_at_ms = CASE WHEN images.status = 'failed' THEN excluded.created_at_ms"
    "  ELSE images.created_at_ms END,"
    " job_enqueued = CASE WHEN images.status = 'failed' THEN 0 ELSE images.job_enqueued END";
// An upload's account, locked as a foreign key would lock it, so that its deletion waits
// for the upload's transaction; SQLite has one writer at a time anyway.
constexpr std::string_view kLockOwnerPostgres = "SELECT id FROM users WHERE id = $1 FOR KEY SHARE";
constexpr std::string_view kSelectOwnerSqlite = "SELECT id FROM users WHERE id = $1";
constexpr std::string_view kOwnerDeleted = "SELECT id FROM deleted_users WHERE id = $1";
constexpr std::string_view kUpsertUpload =
    "INSERT INTO uploads (owner, image_id, filename, uploaded_at_ms) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (owner, image_id) DO UPDATE"
    " SET filename = excluded.filename, uploaded_at_ms = excluded.uploaded_at_ms";
constexpr std::string_view kSelectUpload = "SELECT " ARGUS_UPLOAD_COLUMNS
                                           " FROM uploads u JOIN images i ON i.id = u.image_id"
                                           " WHERE u.owner = $1 AND u.image_id = $2";
constexpr std::string_view kSelectImage =
    "SELECT " ARGUS_IMAGE_COLUMNS " FROM images i WHERE i.id = $1";
constexpr std::string_view kImageExists = "SELECT id FROM images WHERE id = $1";
constexpr std::string_view kAwaitingJob =
    "SELECT id, created_at_ms FROM images"
    " WHERE job_enqueued = 0 AND status = 'queued' AND created_at_ms < $1"
    " ORDER BY created_at_ms, id";
constexpr std::string_view kListHead =
    "SELECT " ARGUS_UPLOAD_COLUMNS
    " FROM uploads u JOIN images i ON i.id = u.image_id WHERE u.owner = $1";
constexpr std::string_view kOwnerHasTerm =
    "SELECT 1 FROM uploads u JOIN image_terms t ON t.image_id = u.image_id"
    " WHERE u.owner = $1 AND t.term = $2 LIMIT 1";
// Same as kInsertImage's DO UPDATE: lock the image row before looking at its owners.
constexpr std::string_view kLockImage = "UPDATE images SET attempts = attempts WHERE id = $1";
constexpr std::string_view kRequeueFailed =
    "UPDATE images SET status = 'queued', error = '', attempts = 0, solo_attempts = 0,"
    " finished_at_ms = 0, started_at_ms = 0, created_at_ms = $1, job_enqueued = 0 WHERE id = $2 "
    "AND status = 'failed'"
    " AND EXISTS (SELECT 1 FROM uploads WHERE owner = $3 AND image_id = $2)";
constexpr std::string_view kDeleteUpload =
    "DELETE FROM uploads WHERE owner = $1 AND image_id = $2 AND uploaded_at_ms < $3";
// image_terms go with the image (ON DELETE CASCADE).
constexpr std::string_view kDeleteOrphanImage =
    "DELETE FROM images WHERE id = $1"
    " AND NOT EXISTS (SELECT 1 FROM uploads WHERE image_id = $1)";
constexpr std::string_view kStoreResult =
    "UPDATE images SET status = 'done', error = '', result_json = $1, model = $2,"
    " inference_ms = $3, finished_at_ms = $4, terms_version = $5"
    " WHERE id = $6 AND status <> 'done'";
constexpr std::string_view kSelectOutdatedTerms =
    "SELECT id, result_json FROM images WHERE status = 'done' AND terms_version < $1 LIMIT $2";
constexpr std::string_view kMarkTermsCurrent =
    "UPDATE images SET terms_version = $1 WHERE id = $2 AND status = 'done'";
constexpr std::string_view kDeleteTerms = "DELETE FROM image_terms WHERE image_id = $1";
constexpr std::string_view kRecordRetryableFailure =
    "UPDATE images SET attempts = attempts + 1, error = $1, status = 'queued'"
    " WHERE id = $2 AND status NOT IN ('done', 'failed')";
constexpr std::string_view kRecordFinalFailure =
    "UPDATE images SET attempts = attempts + 1, error = $1, status = 'failed',"
    " finished_at_ms = $2"
    " WHERE id = $3 AND status NOT IN ('done', 'failed')";
constexpr std::string_view kCountByStatus = "SELECT status, COUNT(*) FROM images GROUP BY status";

#undef ARGUS_UPLOAD_COLUMNS
#undef ARGUS_IMAGE_COLUMNS

constexpr int kMaxListLimit = 200;
constexpr std::size_t kMaxIdLength = 128;
constexpr std::size_t kTermsPerInsert = 100;
// PostgreSQL: how long one statement, a pooled connection or a COMMIT may take. The catalog's
// statements are small and indexed, so one unanswered this long means a server that stopped
// answering (silence_), and the caller, often an HTTP request, gets 503 instead of
// waiting on. Migrations may take longer (an index over a large table) and run before the
// catalog serves anyone. SQLite statements have no such limit: they wait at most
// busy_timeout for the file lock, and one must never be abandoned half-way through a
// BEGIN ... COMMIT on the shared connection.
constexpr std::chrono::seconds kPostgresAnswerWait{5};
constexpr std::chrono::seconds kPostgresMigrationWait{30};
// How long a statement waits for a client that has lost every connection to get one back:
// Drogon tries again every second, so a server restart is ridden out, while a server that
// is down fails statements quickly rather than after the statement timeout.
constexpr std::chrono::seconds kPostgresReconnectionWait{1};
// While the server is silent: how long a probe waits for its answer, and the pause before
// each probe (after the unanswered statement, and after a probe that had no answer).
constexpr std::chrono::seconds kPostgresProbeWait{1};
constexpr std::chrono::milliseconds kPostgresProbePause{250};

// ---------------------------------------------------------------------------------------
// Execution helpers.

using Param = std::variant<std::string, std::int64_t, int, double>;

// True when $1, $2, ... first appear in the text in that order and match the parameter
// count. SQLite numbers "$N" parameters by first appearance and Drogon binds by position,
// so "SET a = $2 WHERE id = $1" would silently swap the values there.
bool PlaceholdersInOrder(std::string_view sql, std::size_t count) {
  std::size_t highest = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '\'') {  // skip string literals
      i = sql.find('\'', i + 1);
      if (i == std::string_view::npos) return false;
      continue;
    }
    if (sql[i] != '$') continue;
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), n);
    if (ec != std::errc()) continue;
    if (n > highest + 1) return false;
    highest = std::max(highest, n);
    i = static_cast<std::size_t>(end - sql.data()) - 1;
  }
  return highest == count;
}

struct Statement {
  std::string sql;
  std::vector<Param> params;
};

// Runs statements on a client (or a transaction). Throws orm::DrogonDbException on failure,
// orm::TimeoutError after `timeout` (when set; noted in `silence` when given), and
// std::logic_error for a statement whose placeholders are out of order.
//
// The wait is ours rather than DbClient::setTimeout's: Drogon 1.9 keeps a reference to the
// client in every timeout timer, so a client closed within the timeout is destroyed later
// on its own event-loop thread, which aborts the process (the thread joins itself).
class Sql {
 public:
  Sql(orm::DbClient& db, std::optional<std::chrono::milliseconds> timeout, SilenceWatch* silence)
      : db_(db), timeout_(timeout), silence_(silence) {}

  // One statement, waited for.
  orm::Result operator()(std::string_view sql, const std::vector<Param>& params = {}) const {
    std::future<orm::Result> result = Send(sql, params);
    return Wait(result);
  }

  // Statements sent one after another without waiting in between, for a transaction body:
  // a transaction's connection runs them in order, so the caller waits once instead of
  // once per statement (each wait is a hand-off to Drogon's database thread and back, and
  // for PostgreSQL a network round trip besides). The first failure is thrown once all have
  // finished, so none is still running when the transaction rolls back.
  std::vector<orm::Result> Pipeline(std::span<const Statement> statements) const {
    std::vector<std::future<orm::Result>> sent;
    sent.reserve(statements.size());
    for (const Statement& statement : statements) {
      sent.push_back(Send(statement.sql, statement.params));
    }
    if (!sent.empty()) WaitReady(sent.back());  // the others finished before it
    std::vector<orm::Result> results;
    results.reserve(sent.size());
    for (std::future<orm::Result>& result : sent) results.push_back(Wait(result));
    return results;
  }

 private:
  std::future<orm::Result> Send(std::string_view sql, const std::vector<Param>& params) const {
    if (!PlaceholdersInOrder(sql, params.size())) {
      throw std::logic_error("placeholders out of order or miscounted in: " + std::string(sql));
    }
    auto done = std::make_shared<std::promise<orm::Result>>();
    std::future<orm::Result> result = done->get_future();
    auto binder = db_ << std::string(sql);
    for (const Param& param : params) {
      std::visit([&binder](const auto& value) { binder << value; }, param);
    }
    binder >> [done](const orm::Result& r) { done->set_value(r); };
    binder >> [done](const std::exception_ptr& e) { done->set_exception(e); };
    binder.exec();
    return result;
  }

  void WaitReady(const std::future<orm::Result>& result) const {
    if (!timeout_) {
      result.wait();
    } else if (result.wait_for(*timeout_) != std::future_status::ready) {
      if (silence_ != nullptr) silence_->NoteUnanswered();
      throw orm::TimeoutError("no answer from the database within " +
                              std::to_string(timeout_->count()) + " ms");
    }
  }

  orm::Result Wait(std::future<orm::Result>& result) const {
    WaitReady(result);
    return result.get();
  }

  orm::DbClient& db_;
  std::optional<std::chrono::milliseconds> timeout_;
  SilenceWatch* silence_;  // may be null
};

// Whether the server ended the connection the statement was on: a connection exception
// (SQLSTATE class 08), an administrator's or a shutting-down server's termination (57P01-03),
// or libpq's word for a connection that closed with no message.
bool ServerEndedTheConnection(const std::exception& error) {
  if (const auto* sql = dynamic_cast<const orm::SqlError*>(&error)) {
    const std::string& state = sql->sqlState();
    if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03") {
      return true;
    }
  }
  const std::string_view text = error.what();
  return text.contains("terminating connection") ||
         text.contains("server closed the connection unexpectedly") ||
         text.contains("no connection to the server");
}

Error DbError(std::string_view what, const orm::DrogonDbException& e) {
  const std::exception& base = e.base();
  std::string message = "catalog: " + std::string(what) + ": " + base.what();
  ErrorCode code = ErrorCode::kInternal;
  std::string_view text = base.what();
  if (dynamic_cast<const orm::BrokenConnection*>(&base) != nullptr ||
      dynamic_cast<const orm::TimeoutError*>(&base) != nullptr ||
      // Drogon rolled the transaction back under the statement: its BEGIN met an ended
      // connection.
      dynamic_cast<const orm::TransactionRollback*>(&base) != nullptr ||
      ServerEndedTheConnection(base) || db::IsLocked(text) || db::IsReadOnly(text)) {
    code = ErrorCode::kUnavailable;
  } else if (dynamic_cast<const orm::IntegrityConstraintViolation*>(&base) != nullptr) {
    code = ErrorCode::kConflict;
  } else if (db::IsDiskFull(text)) {
    code = ErrorCode::kNoSpace;
  }
  return Error{code, std::move(message)};
}

Error OtherError(std::string_view what, const std::exception& e) {
  // Drogon drops the callback of a statement whose connection the server ended, which its
  // synchronous calls report as a broken promise.
  const bool dropped = dynamic_cast<const std::future_error*>(&e) != nullptr;
  return Error{dropped ? ErrorCode::kUnavailable : ErrorCode::kInternal,
               "catalog: " + std::string(what) + ": " + e.what()};
}

orm::Field Column(const orm::Row& row, std::size_t index) {
  return row[static_cast<orm::Row::SizeType>(index)];
}

ImageStatus ParseStatus(std::string_view name) {
  if (name == "processing") return ImageStatus::kProcessing;
  if (name == "done") return ImageStatus::kDone;
  if (name == "failed") return ImageStatus::kFailed;
  return ImageStatus::kQueued;  // the CHECK constraint allows nothing else
}

struct Loaded {
  ImageRecord record;
  bool job_enqueued = false;
};

Loaded LoadRow(const orm::Row& row, bool with_upload) {
  Loaded loaded;
  ImageRecord& r = loaded.record;
  r.id = Column(row, 0).as<std::string>();
  r.content_type = Column(row, 1).as<std::string>();
  r.size_bytes = Column(row, 2).as<std::int64_t>();
  r.width = Column(row, 3).as<int>();
  r.height = Column(row, 4).as<int>();
  r.status = ParseStatus(Column(row, 5).as<std::string>());
  r.error = Column(row, 6).as<std::string>();
  r.result_json = Column(row, 7).as<std::string>();
  r.model = Column(row, 8).as<std::string>();
  r.attempts = Column(row, 9).as<int>();
  r.created_at_ms = Column(row, 10).as<std::int64_t>();
  r.started_at_ms = Column(row, 11).as<std::int64_t>();
  r.finished_at_ms = Column(row, 12).as<std::int64_t>();
  r.inference_ms = Column(row, 13).as<double>();
  loaded.job_enqueued = Column(row, 14).as<int>() != 0;
  r.solo_attempts = Column(row, 15).as<int>();
  if (with_upload) {
    r.owner = Column(row, 16).as<std::string>();
    r.filename = Column(row, 17).as<std::string>();
    r.uploaded_at_ms = Column(row, 18).as<std::int64_t>();
  }
  return loaded;
}

constexpr std::string_view kWhitespace = " \t\n\r\f\v";

// `text` with the spaces of Unicode that phones and word processors type (no-break, narrow
// no-break, thin, ideographic) as ASCII spaces, and without apostrophes, straight or curly.
std::string PlainSpacesWithoutApostrophes(std::string_view text) {
  constexpr std::string_view kSpaces[] = {"\u00a0", "\u202f", "\u2009", "\u3000"};
  constexpr std::string_view kCurlyApostrophe = "\u2019";
  std::string plain;
  plain.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    if (const auto* space = std::ranges::find_if(
            kSpaces, [rest](std::string_view s) { return rest.starts_with(s); });
        space != std::end(kSpaces)) {
      plain += ' ';
      i += space->size();
    } else if (rest.starts_with(kCurlyApostrophe)) {
      i += kCurlyApostrophe.size();
    } else {
      if (text[i] != '\'') plain += text[i];
      ++i;
    }
  }
  return plain;
}

// Whether a search is no search: white space alone, Unicode's spaces included.
bool IsBlank(std::string_view text) {
  return PlainSpacesWithoutApostrophes(text).find_first_not_of(kWhitespace) == std::string::npos;
}

// A search term or query as the index compares them: its words, split at white space (the
// spaces above too), hyphens, underscores, full stops and parentheses, joined by one space,
// without apostrophes, ASCII letters lowercased; so "Shih-Tzu" finds "Shih Tzu", "St.
// Bernard" "st bernard", "crane bird" "crane (bird)" and "lady’s slipper" "lady's slipper".
std::string SearchKey(std::string_view text) {
  constexpr std::string_view kSeparators = " \t\n\r\f\v-_.()";
  const std::string plain = PlainSpacesWithoutApostrophes(text);
  const std::string_view rest(plain);
  std::string words;
  for (std::size_t start = rest.find_first_not_of(kSeparators); start != std::string_view::npos;
       start = rest.find_first_not_of(kSeparators, start)) {
    const std::size_t end = std::min(rest.find_first_of(kSeparators, start), rest.size());
    if (!words.empty()) words += ' ';
    words += rest.substr(start, end - start);
    start = end;
  }
  return AsciiLowercase(words);
}

// `text` matched literally by LIKE ... ESCAPE '\\': search keys have no underscore, the other
// wildcard.
std::string EscapeLikePattern(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '%' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

// Text with a NUL byte cannot be stored faithfully (SQLite binding stops at it, PostgreSQL
// rejects it), and a truncated owner could match someone else's. PostgreSQL refuses text that
// is not UTF-8 with an error of its own (a 500), where SQLite took it: both refuse it here.
Result<void> CheckText(std::initializer_list<std::string_view> texts) {
  for (std::string_view text : texts) {
    if (text.find('\0') != std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "text contains a NUL byte");
    }
    if (!IsUtf8(text)) return Fail(ErrorCode::kInvalidArgument, "text is not UTF-8");
  }
  return {};
}

// "$first, $first+1, ..." for `count` parameters.
std::string Placeholders(std::size_t first, std::size_t count) {
  std::string list;
  for (std::size_t i = 0; i < count; ++i) {
    list += (i == 0 ? "$" : ", $") + std::to_string(first + i);
  }
  return list;
}

Result<void> CheckId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) {
    return Fail(ErrorCode::kInvalidArgument,
                "image id must be 1.." + std::to_string(kMaxIdLength) + " characters");
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// Cursors: base64url (no padding) of "[w:|t:]<uploaded_at_ms>:<image_id>", the last entry of
// the previous page. Opaque to clients; anything that does not decode is kInvalidArgument.

struct Cursor {
  std::int64_t uploaded_at_ms = 0;
  std::string image_id;
  // How the search whose page made it matched its label, which the later pages keep: decided
  // again, a photo having the label as a term, uploaded between two pages of a search by
  // words, dropped the rest of its results. Absent in a cursor of an earlier version.
  std::optional<LabelMatch> label_match;
};

// "w:" for a search by words, "t:" by term, nothing for a listing without a label.
std::string EncodeCursor(const ImageRecord& last, LabelMatch label_match) {
  const std::string_view mode = label_match == LabelMatch::kWords  ? "w:"
                                : label_match == LabelMatch::kTerm ? "t:"
                                                                   : "";
  return Base64Url(std::format("{}{}:{}", mode, last.uploaded_at_ms, last.id));
}

Result<Cursor> DecodeCursor(std::string_view text) {
  auto bad = [] { return Fail(ErrorCode::kInvalidArgument, "malformed list cursor"); };
  std::optional<std::string> decoded = FromBase64Url(text);
  if (!decoded) return bad();
  std::optional<LabelMatch> label_match;
  if (decoded->starts_with("w:") || decoded->starts_with("t:")) {
    label_match = decoded->front() == 'w' ? LabelMatch::kWords : LabelMatch::kTerm;
    decoded->erase(0, 2);
  }
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos || colon == 0) return bad();
  Cursor cursor;
  const char* begin = decoded->data();
  auto [end, ec] = std::from_chars(begin, begin + colon, cursor.uploaded_at_ms);
  if (ec != std::errc() || end != begin + colon || cursor.uploaded_at_ms < 0) return bad();
  cursor.image_id = decoded->substr(colon + 1);
  if (cursor.image_id.empty() || cursor.image_id.size() > kMaxIdLength) return bad();
  // Ids are hex digests: a second colon is text after the id, in a cursor we did not make.
  for (unsigned char c : cursor.image_id) {
    if (c < 0x20 || c == 0x7f || c == ':') return bad();
  }
  cursor.label_match = label_match;
  return cursor;
}

}  // namespace

std::span<const Migration> SchemaMigrations() { return MigrationList(); }

// ---------------------------------------------------------------------------------------

SqlCatalog::SqlCatalog(std::shared_ptr<orm::DbClient> db, SqlDialect dialect)
    : db_(std::move(db)), dialect_(dialect) {
  if (dialect_ != SqlDialect::kPostgres) return;
  statement_timeout_ = kPostgresMigrationWait;
  silence_ = std::make_unique<SilenceWatch>(db::SelectOneProbe(*db_, kPostgresProbeWait),
                                            kPostgresProbePause);
}

SqlCatalog::~SqlCatalog() {
  silence_.reset();
  db::ReleaseDbClient(std::move(db_));
}

Result<std::unique_ptr<SqlCatalog>> SqlCatalog::Open(std::shared_ptr<orm::DbClient> db,
                                                     SqlDialect dialect) {
  if (!db) return Fail(ErrorCode::kInvalidArgument, "catalog: no database client");
  std::unique_ptr<SqlCatalog> catalog(new SqlCatalog(std::move(db), dialect));
  if (auto migrated = catalog->Migrate(); !migrated) return std::unexpected(migrated.error());
  if (dialect == SqlDialect::kPostgres) catalog->statement_timeout_ = kPostgresAnswerWait;
  return catalog;
}

Result<bool> SqlCatalog::HasSchema(orm::DbClient& db, SqlDialect dialect) {
  const std::string_view exists = dialect == SqlDialect::kPostgres ? kMigrationsTableExistsPostgres
                                                                   : kMigrationsTableExistsSqlite;
  try {
    if (Column(db.execSqlSync(std::string(exists))[0], 0).as<int>() == 0) return false;
  } catch (const orm::DrogonDbException& e) {
    return Fail(ErrorCode::kIo, std::string("catalog: looking for the schema: ") + e.base().what());
  }
  // Rails, Ecto and golang-migrate name their table schema_migrations too: Argus's holds
  // Argus's first migration.
  const Migration& first = MigrationList().front();
  try {
    const orm::Result found =
        db.execSqlSync("SELECT count(*) FROM schema_migrations WHERE version = $1 AND name = $2",
                       first.version, std::string(first.name));
    return Column(found[0], 0).as<int>() != 0;
  } catch (const orm::DrogonDbException&) {
    return false;  // no such columns, or of other types: another application's table
  }
}

// Drogon queues a statement for a client with no live connection until one comes back, so
// while the server was down each statement held its caller for the whole statement timeout:
// the web tier's I/O threads with them, and its /healthz too. A server that keeps its
// connections and stops answering held them the same way, each caller in turn.
Result<void> SqlCatalog::CheckAnswering(std::string_view what) {
  if (dialect_ != SqlDialect::kPostgres) return {};
  if (silence_->silent()) {
    return Fail(ErrorCode::kUnavailable,
                std::format("catalog: {}: the database is not answering (a statement had no "
                            "answer within {} s)",
                            what, kPostgresAnswerWait.count()));
  }
  if (db::WaitForConnection(*db_, kPostgresReconnectionWait)) return {};
  return Fail(ErrorCode::kUnavailable,
              "catalog: " + std::string(what) +
                  ": no connection to the database (it is down or unreachable)");
}

template <typename T, typename Body>
Result<T> SqlCatalog::Run(std::string_view what, Body&& body) {
  if (auto answering = CheckAnswering(what); !answering) {
    return std::unexpected(answering.error());
  }
  std::unique_lock<std::mutex> lock(sqlite_mutex_, std::defer_lock);
  if (dialect_ == SqlDialect::kSqlite) lock.lock();
  try {
    return body(Sql(*db_, statement_timeout_, silence_.get()));
  } catch (const orm::DrogonDbException& e) {
    return std::unexpected(DbError(what, e));
  } catch (const std::exception& e) {
    return std::unexpected(OtherError(what, e));
  }
}

template <typename T, typename Body>
Result<T> SqlCatalog::InTransaction(std::string_view what, Body&& body) {
  auto run_body = [&](orm::DbClient& db) -> Result<T> {
    try {
      return body(Sql(db, statement_timeout_, silence_.get()));
    } catch (const orm::DrogonDbException& e) {
      return std::unexpected(DbError(what, e));
    } catch (const std::exception& e) {
      return std::unexpected(OtherError(what, e));
    }
  };
  auto fail = [what](ErrorCode code, std::string_view why) {
    return Fail(code, "catalog: " + std::string(what) + ": " + std::string(why));
  };

  if (dialect_ == SqlDialect::kSqlite) {
    std::lock_guard lock(sqlite_mutex_);
    Sql db(*db_, statement_timeout_, nullptr);
    try {
      db("BEGIN IMMEDIATE");
    } catch (const orm::DrogonDbException& e) {
      return std::unexpected(DbError(what, e));
    }
    Result<T> result = run_body(*db_);
    try {
      db(result ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (const orm::DrogonDbException& e) {
      // A failed COMMIT leaves the transaction open: end it before anyone else comes.
      try {
        db("ROLLBACK");
      } catch (const orm::DrogonDbException&) {  // NOLINT(bugprone-empty-catch)
        // Already ended by SQLite: nothing left to end.
      }
      if (!result) return result;
      return std::unexpected(DbError(what, e));
    }
  }

  // PostgreSQL: a Drogon transaction holds one pooled connection; it commits when the last
  // reference goes and reports the outcome through its commit callback.
  if (auto answering = CheckAnswering(what); !answering) {
    return std::unexpected(answering.error());
  }
  const auto wait = statement_timeout_.value_or(std::chrono::hours(24));
  auto granted = std::make_shared<std::promise<std::shared_ptr<orm::Transaction>>>();
  std::future<std::shared_ptr<orm::Transaction>> grant = granted->get_future();
  db_->newTransactionAsync(
      [granted](const std::shared_ptr<orm::Transaction>& tx) { granted->set_value(tx); });
  if (grant.wait_for(wait) != std::future_status::ready) {
    // When a connection turns up later, the transaction it gets is dropped unused.
    silence_->NoteUnanswered();
    return fail(ErrorCode::kUnavailable, "no database connection available");
  }
  std::shared_ptr<orm::Transaction> tx = grant.get();
  if (!tx) return fail(ErrorCode::kUnavailable, "no database connection available");
  auto committed = std::make_shared<std::promise<bool>>();
  std::future<bool> commit_outcome = committed->get_future();
  tx->setCommitCallback([committed](bool ok) { committed->set_value(ok); });

  Result<T> result = run_body(*tx);
  if (!result) {
    tx->rollback();  // a no-op when a failed statement already rolled it back
    return result;
  }
  tx.reset();
  if (commit_outcome.wait_for(wait) != std::future_status::ready) {
    silence_->NoteUnanswered();
    return fail(ErrorCode::kUnavailable, "no answer to COMMIT");
  }
  if (!commit_outcome.get()) return fail(ErrorCode::kUnavailable, "COMMIT failed");
  return result;
}

Result<void> SqlCatalog::Migrate() {
  // One opener at a time looks for the table and creates it: PostgreSQL sessions creating it
  // at the same moment collide (a unique violation in pg_type, logged), or one finds it
  // made and sends a notice that libpq prints as plain text. SQLite's BEGIN IMMEDIATE
  // serialises them already.
  auto created =
      InTransaction<bool>("creating schema_migrations", [this](const Sql& db) -> Result<bool> {
        if (dialect_ == SqlDialect::kPostgres) db(kLockMigrationsPostgres);
        const std::string_view exists = dialect_ == SqlDialect::kPostgres
                                            ? kMigrationsTableExistsPostgres
                                            : kMigrationsTableExistsSqlite;
        if (Column(db(exists)[0], 0).as<int>() == 0) db(kCreateMigrationsTable);
        return true;
      });
  if (!created) return std::unexpected(created.error());

  for (const Migration& migration : MigrationList()) {
    std::string what = "schema migration " + std::to_string(migration.version) + " (" +
                       std::string(migration.name) + ")";
    auto applied = InTransaction<bool>(what, [&](const Sql& db) -> Result<bool> {
      // Claiming the version first makes a concurrent opener wait here (PostgreSQL) or at
      // BEGIN IMMEDIATE (SQLite), then find it taken.
      orm::Result claim =
          db(kClaimMigration, {migration.version, std::string(migration.name), NowMs()});
      if (claim.affectedRows() == 0) return false;
      for (std::string_view statement : migration.statements) db(statement);
      return true;
    });
    if (!applied) return std::unexpected(applied.error());
  }
  return {};
}

Result<std::vector<AppliedMigration>> SqlCatalog::AppliedMigrations() {
  using Out = std::vector<AppliedMigration>;
  return Run<Out>("reading schema_migrations", [](const Sql& db) -> Result<Out> {
    Out out;
    for (const auto& row : db(kSelectMigrations)) {
      out.push_back({.version = Column(row, 0).as<int>(),
                     .name = Column(row, 1).as<std::string>(),
                     .applied_at_ms = Column(row, 2).as<std::int64_t>()});
    }
    return out;
  });
}

Result<AddOutcome> SqlCatalog::AddUpload(const NewUpload& upload) {
  if (auto ok = CheckText({upload.id, upload.owner, upload.filename, upload.content_type}); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = CheckId(upload.id); !ok) return std::unexpected(ok.error());
  if (upload.size_bytes < 0 || upload.width < 0 || upload.height < 0) {
    return Fail(ErrorCode::kInvalidArgument, "negative size or dimensions");
  }
  return InTransaction<AddOutcome>("adding an upload", [&](const Sql& db) -> Result<AddOutcome> {
    const std::int64_t now = NowMs();
    std::vector<Statement> statements;
    // An account deleted while its upload was on the way must not be left owning it: the
    // deletion waits for this transaction, and a later upload finds the account deleted.
    const bool has_owner = !upload.owner.empty();
    if (has_owner) {
      statements.push_back(
          {std::string(dialect_ == SqlDialect::kPostgres ? kLockOwnerPostgres : kSelectOwnerSqlite),
           {upload.owner}});
      statements.push_back({std::string(kOwnerDeleted), {upload.owner}});
    }
    statements.push_back(
        {std::string(kInsertImage),
         {upload.id, upload.content_type, upload.size_bytes, upload.width, upload.height, now}});
    statements.push_back(
        {std::string(kUpsertUpload), {upload.owner, upload.id, upload.filename, now}});
    statements.push_back({std::string(kSelectUpload), {upload.owner, upload.id}});
    const std::vector<orm::Result> results = db.Pipeline(statements);
    if (has_owner && !results[1].empty()) {
      return Fail(ErrorCode::kNotFound, "the account " + upload.owner + " was deleted");
    }
    const orm::Result& rows = results.back();
    if (rows.empty()) {
      return Fail(ErrorCode::kInternal, "catalog: upload vanished inside its own transaction");
    }
    Loaded loaded = LoadRow(rows[0], true);
    AddOutcome outcome;
    outcome.needs_job = !loaded.job_enqueued && loaded.record.status == ImageStatus::kQueued;
    outcome.record = std::move(loaded.record);
    return outcome;
  });
}

Result<void> SqlCatalog::MarkEnqueued(std::span<const JobMark> marks) {
  if (marks.empty()) return {};
  for (const JobMark& mark : marks) {
    if (auto ok = CheckText({mark.image_id}); !ok) return ok;
  }
  // Well below SQLite's limit of 32766 parameters in a statement.
  constexpr std::size_t kMarksPerStatement = 250;
  return Run<void>("marking jobs enqueued", [&](const Sql& db) -> Result<void> {
    for (std::size_t first = 0; first < marks.size(); first += kMarksPerStatement) {
      const auto chunk = marks.subspan(first, std::min(kMarksPerStatement, marks.size() - first));
      std::string sql = "UPDATE images SET job_enqueued = 1 WHERE ";
      std::vector<Param> params;
      for (const JobMark& mark : chunk) {
        sql += std::format("{}(id = ${} AND created_at_ms = ${})", params.empty() ? "" : " OR ",
                           params.size() + 1, params.size() + 2);
        params.emplace_back(mark.image_id);
        params.emplace_back(mark.round_ms);
      }
      db(sql, params);
    }
    return {};
  });
}

Result<std::vector<JobMark>> SqlCatalog::ImagesAwaitingJob(std::int64_t before_ms) {
  using Out = std::vector<JobMark>;
  return Run<Out>("listing images awaiting a job", [&](const Sql& db) -> Result<Out> {
    Out awaiting;
    for (const auto& row : db(kAwaitingJob, {before_ms})) {
      awaiting.push_back({.image_id = Column(row, 0).as<std::string>(),
                          .round_ms = Column(row, 1).as<std::int64_t>()});
    }
    return awaiting;
  });
}

Result<std::size_t> SqlCatalog::ForgetLostJobs(std::int64_t before_ms) {
  return Run<std::size_t>("forgetting lost jobs", [&](const Sql& db) -> Result<std::size_t> {
    return db("UPDATE images SET job_enqueued = 0"
              " WHERE job_enqueued = 1 AND status = 'queued' AND created_at_ms < $1",
              {before_ms})
        .affectedRows();
  });
}

Result<ImageRecord> SqlCatalog::Get(std::string_view owner, std::string_view id) {
  if (auto ok = CheckText({owner, id}); !ok) return std::unexpected(ok.error());
  return Run<ImageRecord>("reading an image", [&](const Sql& db) -> Result<ImageRecord> {
    orm::Result rows = db(kSelectUpload, {std::string(owner), std::string(id)});
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no image " + std::string(id));
    return LoadRow(rows[0], true).record;
  });
}

Result<ImageRecord> SqlCatalog::GetImage(std::string_view id) {
  if (auto ok = CheckText({id}); !ok) return std::unexpected(ok.error());
  return Run<ImageRecord>("reading an image", [&](const Sql& db) -> Result<ImageRecord> {
    orm::Result rows = db(kSelectImage, {std::string(id)});
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no image " + std::string(id));
    return LoadRow(rows[0], false).record;
  });
}

Result<std::set<std::string>> SqlCatalog::KnownImages(std::span<const std::string> ids) {
  using Out = std::set<std::string>;
  for (const std::string& id : ids) {
    if (auto ok = CheckText({id}); !ok) return std::unexpected(ok.error());
  }
  constexpr std::size_t kIdsPerStatement = 500;
  return Run<Out>("looking up images", [&](const Sql& db) -> Result<Out> {
    Out known;
    for (std::size_t first = 0; first < ids.size(); first += kIdsPerStatement) {
      const auto chunk = ids.subspan(first, std::min(kIdsPerStatement, ids.size() - first));
      std::string sql = "SELECT id FROM images WHERE id IN (";
      std::vector<Param> params;
      for (const std::string& id : chunk) {
        sql += std::format("{}${}", params.empty() ? "" : ", ", params.size() + 1);
        params.emplace_back(id);
      }
      for (const auto& row : db(sql + ")", params)) known.insert(Column(row, 0).as<std::string>());
    }
    return known;
  });
}

Result<ListPage> SqlCatalog::List(const ListQuery& query) {
  if (auto ok = CheckText({query.owner}); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckText({query.label}); !ok) {
    return Fail(ok.error().code, "the label searched for: " + ok.error().message);
  }
  if (query.limit < 1 || query.limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument,
                "list limit must be 1.." + std::to_string(kMaxListLimit));
  }
  std::optional<Cursor> cursor;
  if (!query.cursor.empty()) {
    auto decoded = DecodeCursor(query.cursor);
    if (!decoded) return std::unexpected(decoded.error());
    cursor = std::move(*decoded);
  }
  const std::string label = SearchKey(query.label);
  // A search of separators alone ("-", "...") has no word to find: it finds nothing, where
  // dropping the filter listed the whole gallery as its results.
  if (label.empty() && !IsBlank(query.label)) {
    return ListPage{.label_match = LabelMatch::kWords};
  }

  return Run<ListPage>("listing images", [&](const Sql& db) -> Result<ListPage> {
    ListPage page;
    if (label.empty()) {
      page.label_match = LabelMatch::kNone;
    } else if (cursor && cursor->label_match) {
      page.label_match = *cursor->label_match;
    } else {
      page.label_match =
          db(kOwnerHasTerm, {query.owner, label}).empty() ? LabelMatch::kWords : LabelMatch::kTerm;
    }
    std::string sql(kListHead);
    std::vector<Param> params = {query.owner};
    auto next_placeholder = [&params] { return "$" + std::to_string(params.size() + 1); };
    if (cursor) {
      sql += " AND (u.uploaded_at_ms, u.image_id) < (" + next_placeholder();
      params.emplace_back(cursor->uploaded_at_ms);
      sql += ", " + next_placeholder() + ")";
      params.emplace_back(cursor->image_id);
    }
    if (!label.empty()) {
      sql += " AND EXISTS (SELECT 1 FROM image_terms t WHERE t.image_id = u.image_id AND ";
      if (page.label_match == LabelMatch::kWords) {
        // Padded with a space at either end, a term holds the words as one pattern.
        sql += "' ' || t.term || ' ' LIKE " + next_placeholder() + " ESCAPE '\\')";
        params.emplace_back("% " + EscapeLikePattern(label) + " %");
      } else {
        sql += "t.term = " + next_placeholder() + ")";
        params.emplace_back(label);
      }
    }
    // One row more than asked tells whether another page follows.
    sql += " ORDER BY u.uploaded_at_ms DESC, u.image_id DESC LIMIT " + next_placeholder();
    params.emplace_back(static_cast<std::int64_t>(query.limit) + 1);
    orm::Result rows = db(sql, params);
    for (const auto& row : rows) {
      if (page.images.size() == static_cast<std::size_t>(query.limit)) {
        page.next_cursor = EncodeCursor(page.images.back(), page.label_match);
        break;
      }
      page.images.push_back(LoadRow(row, true).record);
    }
    return page;
  });
}

Result<bool> SqlCatalog::Remove(std::string_view owner, std::string_view id,
                                const BytesRemover& remove_bytes) {
  return RemoveUploadedBefore(owner, id, std::numeric_limits<std::int64_t>::max(), remove_bytes);
}

Result<bool> SqlCatalog::RemoveUploadedBefore(std::string_view owner, std::string_view id,
                                              std::int64_t before_ms,
                                              const BytesRemover& remove_bytes) {
  if (auto ok = CheckText({owner, id}); !ok) return std::unexpected(ok.error());
  return InTransaction<bool>("removing an image", [&](const Sql& db) -> Result<bool> {
    db(kLockImage, {std::string(id)});
    if (db(kDeleteUpload, {std::string(owner), std::string(id), before_ms}).affectedRows() == 0) {
      return Fail(ErrorCode::kNotFound, "no image " + std::string(id));
    }
    if (db(kDeleteOrphanImage, {std::string(id)}).affectedRows() == 0) return false;
    // Inside the transaction: a concurrent upload of the content waits on the image's row, so
    // it cannot record the image between this deletion of the bytes and the commit.
    if (auto removed = remove_bytes(); !removed) return std::unexpected(removed.error());
    return true;
  });
}

Result<AddOutcome> SqlCatalog::Requeue(std::string_view owner, std::string_view id) {
  if (auto ok = CheckText({owner, id}); !ok) return std::unexpected(ok.error());
  return InTransaction<AddOutcome>(
      "trying an image again", [&](const Sql& db) -> Result<AddOutcome> {
        const std::array<Statement, 2> statements{{
            {std::string(kRequeueFailed), {NowMs(), std::string(id), std::string(owner)}},
            {std::string(kSelectUpload), {std::string(owner), std::string(id)}},
        }};
        const std::vector<orm::Result> results = db.Pipeline(statements);
        if (results[1].empty()) return Fail(ErrorCode::kNotFound, "no image " + std::string(id));
        Loaded loaded = LoadRow(results[1][0], true);
        if (results[0].affectedRows() == 0) {
          return Fail(ErrorCode::kConflict,
                      std::format("only a failed image can be tried again; this one is {}",
                                  StatusName(loaded.record.status)));
        }
        return AddOutcome{.record = std::move(loaded.record), .needs_job = true};
      });
}

Result<std::vector<std::optional<ImageStatus>>> SqlCatalog::StartProcessing(
    std::span<const std::string> ids, std::int64_t now_ms) {
  return MarkProcessing(ids, now_ms, false);
}

Result<std::optional<ImageStatus>> SqlCatalog::StartProcessingAlone(std::string_view id,
                                                                    std::int64_t now_ms) {
  const std::string image_id(id);
  auto statuses = MarkProcessing(std::span(&image_id, 1), now_ms, true);
  if (!statuses) return std::unexpected(statuses.error());
  return statuses->front();
}

Result<std::vector<std::optional<ImageStatus>>> SqlCatalog::MarkProcessing(
    std::span<const std::string> ids, std::int64_t now_ms, bool alone) {
  using Out = std::vector<std::optional<ImageStatus>>;
  if (ids.empty()) return Out{};
  for (const std::string& id : ids) {
    if (auto ok = CheckText({id}); !ok) return std::unexpected(ok.error());
  }
  std::vector<Param> id_params(ids.begin(), ids.end());
  std::vector<Param> update_params = {now_ms};
  update_params.insert(update_params.end(), id_params.begin(), id_params.end());
  return Run<Out>("marking images processing", [&](const Sql& db) -> Result<Out> {
    db(std::string("UPDATE images SET status = 'processing', started_at_ms = $1") +
           (alone ? ", solo_attempts = solo_attempts + 1" : "") + " WHERE id IN (" +
           Placeholders(2, ids.size()) + ") AND status NOT IN ('done', 'failed')",
       update_params);
    std::map<std::string, ImageStatus> statuses;
    for (const auto& row :
         db("SELECT id, status FROM images WHERE id IN (" + Placeholders(1, ids.size()) + ")",
            id_params)) {
      statuses[Column(row, 0).as<std::string>()] = ParseStatus(Column(row, 1).as<std::string>());
    }
    Out out;
    out.reserve(ids.size());
    for (const std::string& id : ids) {
      const auto found = statuses.find(id);
      out.push_back(found == statuses.end() ? std::nullopt : std::optional(found->second));
    }
    return out;
  });
}

Result<std::vector<bool>> SqlCatalog::Exist(std::span<const std::string> ids) {
  if (ids.empty()) return std::vector<bool>{};
  for (const std::string& id : ids) {
    if (auto ok = CheckText({id}); !ok) return std::unexpected(ok.error());
  }
  const std::vector<Param> params(ids.begin(), ids.end());
  return Run<std::vector<bool>>(
      "looking images up", [&](const Sql& db) -> Result<std::vector<bool>> {
        std::set<std::string> found;
        for (const auto& row :
             db("SELECT id FROM images WHERE id IN (" + Placeholders(1, ids.size()) + ")",
                params)) {
          found.insert(Column(row, 0).as<std::string>());
        }
        std::vector<bool> out;
        out.reserve(ids.size());
        for (const std::string& id : ids) out.push_back(found.contains(id));
        return out;
      });
}

namespace {

// Search terms as the index keeps them: as SearchKey makes them, each once.
Result<std::vector<std::string>> NormalizedTerms(std::span<const std::string> terms) {
  std::set<std::string> normalized;
  for (const std::string& term : terms) {
    if (auto ok = CheckText({term}); !ok) return std::unexpected(ok.error());
    std::string key = SearchKey(term);
    if (!key.empty()) normalized.insert(std::move(key));
  }
  return std::vector<std::string>(normalized.begin(), normalized.end());
}

// The statements that add `terms` to the index for `image_id`, kTermsPerInsert rows each,
// while the image is there and done: they can then be sent in one pipeline with the
// statements that decide that, with no wait between to learn what those did.
void AppendTermInserts(const std::string& image_id, const std::vector<std::string>& terms,
                       std::vector<Statement>& statements) {
  for (std::size_t start = 0; start < terms.size(); start += kTermsPerInsert) {
    const std::size_t end = std::min(terms.size(), start + kTermsPerInsert);
    Statement insert{"INSERT INTO image_terms (image_id, term) SELECT $1, column1 FROM (VALUES ",
                     {image_id}};
    for (std::size_t i = start; i < end; ++i) {
      insert.sql += (i == start ? "($" : ", ($") + std::to_string(insert.params.size() + 1) + ")";
      insert.params.emplace_back(terms[i]);
    }
    // SQLite reads an ON CONFLICT after a SELECT without a WHERE as part of a join.
    insert.sql +=
        ") AS terms WHERE EXISTS (SELECT 1 FROM images WHERE id = $1 AND status = 'done')"
        " ON CONFLICT (image_id, term) DO NOTHING";
    statements.push_back(std::move(insert));
  }
}

}  // namespace

Result<std::vector<bool>> SqlCatalog::StoreResults(std::span<const ResultToStore> results,
                                                   std::int64_t now_ms) {
  std::vector<std::vector<std::string>> terms_of_each;
  terms_of_each.reserve(results.size());
  for (const ResultToStore& each : results) {
    const ClassificationResult& result = each.result;
    if (auto ok = CheckText({each.image_id, result.result_json, result.model}); !ok) {
      return std::unexpected(ok.error());
    }
    auto terms = NormalizedTerms(result.search_terms);
    if (!terms) return std::unexpected(terms.error());
    terms_of_each.push_back(std::move(*terms));
  }
  return InTransaction<std::vector<bool>>(
      "storing results", [&](const Sql& db) -> Result<std::vector<bool>> {
        std::vector<Statement> updates;
        updates.reserve(results.size());
        for (const ResultToStore& each : results) {
          updates.push_back({std::string(kStoreResult),
                             {each.result.result_json, each.result.model, each.result.inference_ms,
                              now_ms, kSearchTermsVersion, each.image_id}});
        }
        std::vector<bool> stored;
        stored.reserve(results.size());
        std::vector<Statement> term_inserts;
        const std::vector<orm::Result> updated = db.Pipeline(updates);
        for (std::size_t r = 0; r < results.size(); ++r) {
          stored.push_back(updated[r].affectedRows() > 0);  // else: had a result, or gone
          if (stored.back()) AppendTermInserts(results[r].image_id, terms_of_each[r], term_inserts);
        }
        db.Pipeline(term_inserts);
        return stored;
      });
}

Result<std::vector<StoredResult>> SqlCatalog::ResultsWithOutdatedTerms(int limit) {
  using Out = std::vector<StoredResult>;
  return Run<Out>("finding results with outdated search terms", [&](const Sql& db) -> Result<Out> {
    Out out;
    // PostgreSQL takes a LIMIT as a BIGINT.
    for (const auto& row :
         db(kSelectOutdatedTerms, {kSearchTermsVersion, static_cast<std::int64_t>(limit)})) {
      out.push_back({.image_id = Column(row, 0).as<std::string>(),
                     .result_json = Column(row, 1).as<std::string>()});
    }
    return out;
  });
}

Result<void> SqlCatalog::ReplaceSearchTerms(std::span<const SearchTermsOfImage> images) {
  std::vector<std::vector<std::string>> terms_of_each;
  terms_of_each.reserve(images.size());
  for (const SearchTermsOfImage& image : images) {
    if (auto ok = CheckText({image.image_id}); !ok) return std::unexpected(ok.error());
    auto terms = NormalizedTerms(image.terms);
    if (!terms) return std::unexpected(terms.error());
    terms_of_each.push_back(std::move(*terms));
  }
  return InTransaction<void>("replacing search terms", [&](const Sql& db) -> Result<void> {
    // Each image's row is locked first (PostgreSQL), so that a process doing the same
    // meanwhile waits and then replaces these terms rather than adding to them; an image
    // gone meanwhile gets none (AppendTermInserts). One pipeline for the batch: a wait per
    // image made it take half as long again.
    std::vector<Statement> statements;
    for (std::size_t i = 0; i < images.size(); ++i) {
      const std::string& id = images[i].image_id;
      statements.push_back({std::string(kMarkTermsCurrent), {kSearchTermsVersion, id}});
      statements.push_back({std::string(kDeleteTerms), {id}});
      AppendTermInserts(id, terms_of_each[i], statements);
    }
    db.Pipeline(statements);
    return {};
  });
}

Result<void> SqlCatalog::RecordFailure(std::string_view id, std::string_view error, bool final,
                                       std::int64_t now_ms) {
  if (auto ok = CheckText({id, error}); !ok) return std::unexpected(ok.error());
  return Run<void>("recording a failure", [&](const Sql& db) -> Result<void> {
    orm::Result updated =
        final ? db(kRecordFinalFailure, {std::string(error), now_ms, std::string(id)})
              : db(kRecordRetryableFailure, {std::string(error), std::string(id)});
    if (updated.affectedRows() > 0) return {};
    // Nothing changed: already done or failed (a late duplicate), or gone.
    if (db(kImageExists, {std::string(id)}).empty()) {
      return Fail(ErrorCode::kNotFound, "no image " + std::string(id));
    }
    return {};
  });
}

Result<StatusCounts> SqlCatalog::CountByStatus() {
  return Run<StatusCounts>("counting images", [](const Sql& db) -> Result<StatusCounts> {
    StatusCounts counts;
    for (const auto& row : db(kCountByStatus)) {
      std::int64_t n = Column(row, 1).as<std::int64_t>();
      switch (ParseStatus(Column(row, 0).as<std::string>())) {
        case ImageStatus::kQueued:
          counts.queued += n;
          break;
        case ImageStatus::kProcessing:
          counts.processing += n;
          break;
        case ImageStatus::kDone:
          counts.done += n;
          break;
        case ImageStatus::kFailed:
          counts.failed += n;
          break;
      }
    }
    return counts;
  });
}

// ---------------------------------------------------------------------------------------
// Accounts.

namespace {

// The first account becomes the administrator, decided inside the insert itself.
constexpr std::string_view kInsertUser =
    "INSERT INTO users (id, email, password_hash, is_admin, created_at_ms)"
    " SELECT $1, $2, $3, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 0 ELSE 1 END, $4"
    " ON CONFLICT (email) DO NOTHING";
// Sign-ups one at a time: under PostgreSQL's default isolation, sign-ups at once into an
// empty table each saw no account and each made an administrator (1 in 3 tries of 8).
constexpr std::string_view kLockSignUpsPostgres = "SELECT pg_advisory_xact_lock(546034)::text";
constexpr std::string_view kSelectUserByEmail =
    "SELECT id, email, password_hash, is_admin, created_at_ms FROM users WHERE email = $1";
constexpr std::string_view kSelectUsers =
    "SELECT id, email, password_hash, is_admin, created_at_ms FROM users"
    " ORDER BY created_at_ms, email";
constexpr std::string_view kDeleteExpiredSessions =
    "DELETE FROM sessions WHERE expires_at_ms <= $1";
constexpr std::string_view kInsertSession =
    "INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at_ms) VALUES ($1, $2, $3, $4)";
constexpr std::string_view kSelectSession =
    "SELECT u.id, u.email, u.password_hash, u.is_admin, u.created_at_ms, s.csrf_token,"
    " s.expires_at_ms FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.token_hash = $1 AND s.expires_at_ms > $2";
constexpr std::string_view kDeleteSession = "DELETE FROM sessions WHERE token_hash = $1";
constexpr std::string_view kUpdatePasswordHash =
    "UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3";
constexpr std::string_view kDeleteOtherSessions =
    "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";
// Its sessions and API tokens go with it (ON DELETE CASCADE).
constexpr std::string_view kDeleteUser = "DELETE FROM users WHERE id = $1";
constexpr std::string_view kRememberDeletedUser =
    "INSERT INTO deleted_users (id, deleted_at_ms) VALUES ($1, $2)";
constexpr std::string_view kDeletedUsersWithUploads =
    "SELECT d.id FROM deleted_users d WHERE EXISTS (SELECT 1 FROM uploads u WHERE u.owner = d.id)"
    " ORDER BY d.deleted_at_ms LIMIT $1";
constexpr std::string_view kAnonymousUploadsBefore =
    "SELECT u.image_id FROM uploads u JOIN images i ON i.id = u.image_id"
    " WHERE u.owner = '' AND u.uploaded_at_ms < $1 AND i.status IN ('done', 'failed')"
    " ORDER BY u.uploaded_at_ms, u.image_id LIMIT $2";
constexpr std::string_view kInsertToken =
    "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at_ms)"
    " VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kSelectTokens =
    "SELECT id, user_id, name, created_at_ms, last_used_at_ms FROM api_tokens"
    " WHERE user_id = $1 ORDER BY created_at_ms, id";
constexpr std::string_view kDeleteToken = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2";
constexpr std::string_view kSelectTokenUser =
    "SELECT u.id, u.email, u.password_hash, u.is_admin, u.created_at_ms, t.last_used_at_ms"
    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1";
constexpr std::string_view kUseToken =
    "UPDATE api_tokens SET last_used_at_ms = $1 WHERE token_hash = $2";
// Last use is recorded at this granularity, so that most requests only read.
constexpr std::int64_t kTokenUseGranularityMs = 60'000;

std::string RandomId() {
  std::random_device random;
  return std::format("{:08x}{:08x}{:08x}{:08x}", random(), random(), random(), random());
}

UserRecord LoadUser(const orm::Row& row) {
  return UserRecord{.id = Column(row, 0).as<std::string>(),
                    .email = Column(row, 1).as<std::string>(),
                    .password_hash = Column(row, 2).as<std::string>(),
                    .is_admin = Column(row, 3).as<std::int64_t>() != 0,
                    .created_at_ms = Column(row, 4).as<std::int64_t>()};
}

}  // namespace

Result<UserRecord> SqlCatalog::CreateUser(std::string_view email, std::string_view password_hash,
                                          std::int64_t now_ms) {
  if (auto ok = CheckText({email, password_hash}); !ok) return std::unexpected(ok.error());
  const std::string lower = AsciiLowercase(email);
  return InTransaction<UserRecord>("creating a user", [&](const Sql& db) -> Result<UserRecord> {
    if (dialect_ == SqlDialect::kPostgres) db(kLockSignUpsPostgres);
    if (db(kInsertUser, {RandomId(), lower, std::string(password_hash), now_ms}).affectedRows() ==
        0) {
      return Fail(ErrorCode::kConflict, "an account with this email exists");
    }
    return LoadUser(db(kSelectUserByEmail, {lower})[0]);
  });
}

Result<UserRecord> SqlCatalog::FindUserByEmail(std::string_view email) {
  if (auto ok = CheckText({email}); !ok) return std::unexpected(ok.error());
  return Run<UserRecord>("finding a user", [&](const Sql& db) -> Result<UserRecord> {
    orm::Result rows = db(kSelectUserByEmail, {AsciiLowercase(email)});
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such user");
    return LoadUser(rows[0]);
  });
}

Result<std::vector<UserRecord>> SqlCatalog::ListUsers() {
  using Out = std::vector<UserRecord>;
  return Run<Out>("listing users", [&](const Sql& db) -> Result<Out> {
    Out users;
    for (const auto& row : db(kSelectUsers)) users.push_back(LoadUser(row));
    return users;
  });
}

Result<void> SqlCatalog::CreateSession(std::string_view token_hash, std::string_view user_id,
                                       std::string_view csrf_token, std::int64_t expires_at_ms) {
  if (auto ok = CheckText({token_hash, user_id, csrf_token}); !ok) return ok;
  return InTransaction<void>("creating a session", [&](const Sql& db) -> Result<void> {
    db(kDeleteExpiredSessions, {NowMs()});
    db(kInsertSession,
       {std::string(token_hash), std::string(user_id), std::string(csrf_token), expires_at_ms});
    return {};
  });
}

Result<SessionRecord> SqlCatalog::FindSession(std::string_view token_hash, std::int64_t now_ms) {
  if (auto ok = CheckText({token_hash}); !ok) return std::unexpected(ok.error());
  return Run<SessionRecord>("finding a session", [&](const Sql& db) -> Result<SessionRecord> {
    orm::Result rows = db(kSelectSession, {std::string(token_hash), now_ms});
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such session");
    return SessionRecord{.user = LoadUser(rows[0]),
                         .csrf_token = Column(rows[0], 5).as<std::string>(),
                         .expires_at_ms = Column(rows[0], 6).as<std::int64_t>()};
  });
}

Result<void> SqlCatalog::DeleteSession(std::string_view token_hash) {
  if (auto ok = CheckText({token_hash}); !ok) return ok;
  return Run<void>("deleting a session", [&](const Sql& db) -> Result<void> {
    db(kDeleteSession, {std::string(token_hash)});
    return {};
  });
}

Result<void> SqlCatalog::SetPasswordHash(std::string_view user_id, std::string_view replaced_hash,
                                         std::string_view password_hash,
                                         std::string_view kept_session_hash) {
  if (auto ok = CheckText({user_id, replaced_hash, password_hash, kept_session_hash}); !ok) {
    return ok;
  }
  return InTransaction<void>("changing a password", [&](const Sql& db) -> Result<void> {
    if (db(kUpdatePasswordHash,
           {std::string(password_hash), std::string(user_id), std::string(replaced_hash)})
            .affectedRows() == 0) {
      return Fail(ErrorCode::kNotFound, "no such user, or its password changed meanwhile");
    }
    db(kDeleteOtherSessions, {std::string(user_id), std::string(kept_session_hash)});
    return {};
  });
}

Result<void> SqlCatalog::MakeAdmin(std::string_view user_id) {
  if (auto ok = CheckText({user_id}); !ok) return ok;
  return Run<void>("making an administrator", [&](const Sql& db) -> Result<void> {
    if (db("UPDATE users SET is_admin = 1 WHERE id = $1", {std::string(user_id)}).affectedRows() ==
        0) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    return {};
  });
}

Result<void> SqlCatalog::DeleteUser(std::string_view user_id) {
  if (auto ok = CheckText({user_id}); !ok) return ok;
  return InTransaction<void>("deleting a user", [&](const Sql& db) -> Result<void> {
    if (db(kDeleteUser, {std::string(user_id)}).affectedRows() == 0) {
      return Fail(ErrorCode::kNotFound, "no such user");
    }
    db(kRememberDeletedUser, {std::string(user_id), NowMs()});
    return {};
  });
}

Result<std::vector<std::string>> SqlCatalog::DeletedUsersWithUploads(int limit) {
  using Out = std::vector<std::string>;
  return Run<Out>("listing deleted users with uploads", [&](const Sql& db) -> Result<Out> {
    Out ids;
    for (const auto& row : db(kDeletedUsersWithUploads, {static_cast<std::int64_t>(limit)})) {
      ids.push_back(Column(row, 0).as<std::string>());
    }
    return ids;
  });
}

Result<std::vector<std::string>> SqlCatalog::AnonymousUploadsBefore(std::int64_t before_ms,
                                                                    int limit) {
  using Out = std::vector<std::string>;
  return Run<Out>("listing anonymous uploads", [&](const Sql& db) -> Result<Out> {
    Out ids;
    for (const auto& row :
         db(kAnonymousUploadsBefore, {before_ms, static_cast<std::int64_t>(limit)})) {
      ids.push_back(Column(row, 0).as<std::string>());
    }
    return ids;
  });
}

Result<TokenRecord> SqlCatalog::CreateApiToken(std::string_view user_id, std::string_view name,
                                               std::string_view token_hash, std::int64_t now_ms) {
  if (auto ok = CheckText({user_id, name, token_hash}); !ok) return std::unexpected(ok.error());
  return Run<TokenRecord>("creating an API token", [&](const Sql& db) -> Result<TokenRecord> {
    TokenRecord token{.id = RandomId(),
                      .user_id = std::string(user_id),
                      .name = std::string(name),
                      .created_at_ms = now_ms};
    db(kInsertToken, {token.id, token.user_id, token.name, std::string(token_hash), now_ms});
    return token;
  });
}

Result<std::vector<TokenRecord>> SqlCatalog::ListApiTokens(std::string_view user_id) {
  if (auto ok = CheckText({user_id}); !ok) return std::unexpected(ok.error());
  using Out = std::vector<TokenRecord>;
  return Run<Out>("listing API tokens", [&](const Sql& db) -> Result<Out> {
    Out tokens;
    for (const auto& row : db(kSelectTokens, {std::string(user_id)})) {
      tokens.push_back({.id = Column(row, 0).as<std::string>(),
                        .user_id = Column(row, 1).as<std::string>(),
                        .name = Column(row, 2).as<std::string>(),
                        .created_at_ms = Column(row, 3).as<std::int64_t>(),
                        .last_used_at_ms = Column(row, 4).as<std::int64_t>()});
    }
    return tokens;
  });
}

Result<void> SqlCatalog::RevokeApiToken(std::string_view user_id, std::string_view token_id) {
  if (auto ok = CheckText({user_id, token_id}); !ok) return ok;
  return Run<void>("revoking an API token", [&](const Sql& db) -> Result<void> {
    if (db(kDeleteToken, {std::string(token_id), std::string(user_id)}).affectedRows() == 0) {
      return Fail(ErrorCode::kNotFound, "no such API token");
    }
    return {};
  });
}

Result<UserRecord> SqlCatalog::FindUserByApiToken(std::string_view token_hash,
                                                  std::int64_t now_ms) {
  if (auto ok = CheckText({token_hash}); !ok) return std::unexpected(ok.error());
  return Run<UserRecord>("checking an API token", [&](const Sql& db) -> Result<UserRecord> {
    orm::Result rows = db(kSelectTokenUser, {std::string(token_hash)});
    if (rows.empty()) return Fail(ErrorCode::kNotFound, "no such API token");
    const std::int64_t last_used = Column(rows[0], 5).as<std::int64_t>();
    if (last_used == 0 || now_ms - last_used >= kTokenUseGranularityMs) {
      db(kUseToken, {now_ms, std::string(token_hash)});
    }
    return LoadUser(rows[0]);
  });
}

}  // namespace argus::catalog
