#include "queue/sqlite_queue.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <format>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "db/drogon_client.h"
#include "db/sqlite_errors.h"
#include "db/sqlite_synchronous.h"
#include "db/sqlite_wal.h"
#include "queue/wake_channel.h"

namespace argus::queue {
namespace {

// A statement that failed: a full disk, or the file busy or gone for now.
ErrorCode FailureCode(const drogon::orm::DrogonDbException& e) {
  return db::IsDiskFull(e.base().what()) ? ErrorCode::kNoSpace : ErrorCode::kUnavailable;
}

using std::chrono::milliseconds;

// Without wake-ups (the wake folder cannot be used), receivers poll, backing off.
constexpr milliseconds kFirstPollInterval{1};
constexpr milliseconds kMaxPollInterval{20};
// With wake-ups on enqueue, polling only finds messages whose visibility timeout or release
// delay ran out, for which this is soon enough. Starting each wait at 1 ms, as before, had
// an idle worker read the file 40 times a second.
constexpr milliseconds kPollIntervalWhenWoken{200};
// The schema history: version N is kMigrations[N - 1], applied in one transaction with its
// schema_version row. One statement per string (Drogon's SQLite binding runs exactly one).
// Append new versions; never edit applied ones.
constexpr std::string_view kVersion1[] = {
    // state 'queued': ready when visible_at_ms <= now, otherwise in flight (received, or
    // released with a delay). state 'dead': dead-lettered. AUTOINCREMENT: an id is never
    // reused, not even after the newest message is acknowledged.
    R"sql(CREATE TABLE messages (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      body BLOB NOT NULL,
      enqueued_at_ms INTEGER NOT NULL,
      visible_at_ms INTEGER NOT NULL,
      delivery_count INTEGER NOT NULL DEFAULT 0,
      receipt TEXT,
      state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'dead')),
      dead_reason TEXT,
      dead_at_ms INTEGER))sql",
    // Receive walks the queued messages in id order and skips invisible ones without
    // reading the table; Stats counts from the index alone.
    "CREATE INDEX messages_by_state ON messages (state, id, visible_at_ms)",
};
constexpr std::span<const std::string_view> kMigrations[] = {kVersion1};

// Claims the oldest visible messages in one statement: SQLite runs it under the database's
// write lock, so concurrent receivers (threads or processes) never claim the same delivery.
constexpr char kReceiveSql[] = R"sql(
  UPDATE messages
  SET receipt = $1, visible_at_ms = $2, delivery_count = delivery_count + 1
  WHERE id IN (SELECT id FROM messages
               WHERE state = 'queued' AND visible_at_ms <= $3
               ORDER BY id LIMIT $4)
  RETURNING id, body, delivery_count)sql";

constexpr char kAnyVisibleSql[] =
    "SELECT 1 FROM messages WHERE state = 'queued' AND visible_at_ms <= $1 LIMIT 1";

// 128 random bits, new for every Receive; with the id it names one delivery.
std::string NewReceipt() {
  std::random_device random;
  std::string receipt;
  for (int i = 0; i < 4; ++i) receipt += std::format("{:08x}", random());
  return receipt;
}

class SqliteQueue final : public Queue {
 public:
  SqliteQueue(std::shared_ptr<drogon::orm::DbClient> db, std::string path,
              const QueueOptions& options)
      : db_(std::move(db)),
        path_(std::move(path)),
        visibility_timeout_(options.visibility_timeout),
        durability_(options.durability),
        wake_(path_ + ".wake") {}
  SqliteQueue(const SqliteQueue&) = delete;
  SqliteQueue& operator=(const SqliteQueue&) = delete;
  ~SqliteQueue() override { db::ReleaseDbClient(std::move(db_)); }

  // Sets up the connection and brings the schema up to date.
  Result<void> Prepare() {
    if (auto wal = db::UseWriteAheadLog(*db_); !wal) {
      return Fail(wal.error().code, std::format("queue {}: {}", path_, wal.error().message));
    }
    if (auto set = Exec("set synchronous", std::string(db::SqliteSynchronousPragma(durability_)));
        !set) {
      return std::unexpected(set.error());
    }
    return Migrate();
  }

  Result<std::string> Enqueue(std::string_view body) override {
    auto inserted = Exec("enqueue",
                         // Drogon binds an empty blob as NULL.
                         "INSERT INTO messages (body, enqueued_at_ms, visible_at_ms) "
                         "VALUES (COALESCE($1, ''), $2, $2) RETURNING id",
                         std::vector<char>(body.begin(), body.end()), NowMs());
    if (!inserted) return std::unexpected(inserted.error());
    wake_.Notify();
    return inserted->front()[0].as<std::string>();
  }

  Result<std::vector<Message>> Receive(std::size_t max, milliseconds wait) override {
    if (max == 0) return Fail(ErrorCode::kInvalidArgument, "Receive needs max >= 1");
    const auto deadline = std::chrono::steady_clock::now() + std::max(wait, milliseconds(0));
    // Listening starts before the first look, so an enqueue right after it still wakes us.
    const bool woken = wait > milliseconds(0) && wake_.Listen();
    milliseconds interval = woken ? kPollIntervalWhenWoken : kFirstPollInterval;
    while (true) {
      auto received = TryReceive(max);
      if (!received || !received->empty()) return received;
      const auto left =
          std::chrono::ceil<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= left.zero()) return received;
      if (woken) {
        wake_.Wait(std::min(interval, left));
      } else {
        std::this_thread::sleep_for(std::min(interval, left));
      }
      if (!woken) interval = std::min(interval * 2, kMaxPollInterval);
    }
  }

  Result<void> Ack(const Message& message) override {
    return ChangeDelivery(
        "acknowledge", message,
        "DELETE FROM messages WHERE state = 'queued' AND id = $1 AND receipt = $2");
  }

  Result<void> AckAll(std::span<const Message> messages) override {
    if (messages.empty()) return {};
    std::vector<std::int64_t> ids;
    std::string sql = "DELETE FROM messages WHERE state = 'queued' AND (id, receipt) IN (VALUES ";
    for (const Message& message : messages) {
      auto id = IdOf("acknowledge", message);
      if (!id) return std::unexpected(id.error());
      sql += std::format("{}(${}, ${})", ids.empty() ? "" : ", ", 2 * ids.size() + 1,
                         2 * ids.size() + 2);
      ids.push_back(*id);
    }
    sql += ") RETURNING id";
    std::optional<drogon::orm::Result> deleted;
    try {
      std::exception_ptr failure;
      {
        auto binder = *db_ << sql;
        for (std::size_t i = 0; i < ids.size(); ++i) binder << ids[i] << messages[i].receipt;
        binder << drogon::orm::Mode::Blocking;
        binder >> [&deleted](const drogon::orm::Result& rows) { deleted = rows; };
        binder >> [&failure](const std::exception_ptr& error) { failure = error; };
        binder.exec();
      }
      if (failure) std::rethrow_exception(failure);
    } catch (const drogon::orm::DrogonDbException& e) {
      return Fail(FailureCode(e),
                  std::format("queue {}: cannot acknowledge: {}", path_, e.base().what()));
    }
    if (!deleted) {
      return Fail(ErrorCode::kUnavailable,
                  std::format("queue {}: cannot acknowledge: no answer from SQLite", path_));
    }
    if (deleted->size() == messages.size()) return {};
    std::set<std::string> acknowledged;
    for (const auto& row : *deleted) acknowledged.insert(row[0].as<std::string>());
    std::string over;
    for (const Message& message : messages) {
      if (!acknowledged.contains(message.id)) over += (over.empty() ? "" : ", ") + message.id;
    }
    return Fail(ErrorCode::kConflict,
                std::format("cannot acknowledge messages {}: their deliveries are over (timed "
                            "out and received again, or acknowledged, released or dead-lettered)",
                            over));
  }

  Result<void> Release(const Message& message, milliseconds delay) override {
    auto released = ChangeDelivery("release", message,
                                   "UPDATE messages SET visible_at_ms = $1, receipt = NULL "
                                   "WHERE state = 'queued' AND id = $2 AND receipt = $3",
                                   NowMs() + std::max(delay, milliseconds(0)).count());
    if (released && delay <= milliseconds(0)) wake_.Notify();
    return released;
  }

  Result<void> ExtendVisibility(const Message& message) override {
    return ChangeDelivery("extend the visibility of", message,
                          "UPDATE messages SET visible_at_ms = $1 "
                          "WHERE state = 'queued' AND id = $2 AND receipt = $3",
                          NowMs() + visibility_timeout_.count());
  }

  Result<void> MoveToDeadLetter(const Message& message, std::string_view reason) override {
    return ChangeDelivery("dead-letter", message,
                          "UPDATE messages "
                          "SET state = 'dead', dead_reason = $1, dead_at_ms = $2, receipt = NULL "
                          "WHERE state = 'queued' AND id = $3 AND receipt = $4",
                          std::string(reason), NowMs());
  }

  Result<std::vector<DeadLetter>> ListDeadLetters(std::size_t limit) override {
    auto rows = Exec("list dead letters",
                     "SELECT id, body, dead_reason, dead_at_ms FROM messages "
                     "WHERE state = 'dead' ORDER BY id LIMIT $1",
                     static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    if (!rows) return std::unexpected(rows.error());
    std::vector<DeadLetter> letters;
    letters.reserve(rows->size());
    for (const auto& row : *rows) {
      letters.push_back({.id = row[0].as<std::string>(),
                         .body = row[1].as<std::string>(),
                         .reason = row[2].as<std::string>(),
                         .dead_at_ms = row[3].as<std::int64_t>()});
    }
    return letters;
  }

  Result<QueueStats> Stats() override {
    // One statement: the counts come from the same snapshot. AUTOINCREMENT keeps the
    // largest id ever given in sqlite_sequence, however many messages were deleted since.
    auto counts = Exec(
        "count messages",
        "SELECT (SELECT COUNT(*) FROM messages WHERE state = 'queued' AND visible_at_ms <= $1),"
        "       (SELECT COUNT(*) FROM messages WHERE state = 'queued' AND visible_at_ms > $1),"
        "       (SELECT COUNT(*) FROM messages WHERE state = 'dead'),"
        "       COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)",
        NowMs());
    if (!counts) return std::unexpected(counts.error());
    const auto& row = counts->front();
    return QueueStats{.ready = row[0].as<std::uint64_t>(),
                      .in_flight = row[1].as<std::uint64_t>(),
                      .dead = row[2].as<std::uint64_t>(),
                      .enqueued_total = row[3].as<std::uint64_t>()};
  }

 private:
  // Runs one statement; Drogon's exceptions end here.
  template <typename... Args>
  Result<drogon::orm::Result> Exec(std::string_view what, const std::string& sql, Args&&... args) {
    try {
      return db_->execSqlSync(sql, std::forward<Args>(args)...);
    } catch (const drogon::orm::DrogonDbException& e) {
      return Fail(FailureCode(e),
                  std::format("queue {}: cannot {}: {}", path_, what, e.base().what()));
    }
  }

  Result<std::vector<Message>> TryReceive(std::size_t max) {
    const std::int64_t now = NowMs();
    // A read-only look first, about a fifth of the cost of an UPDATE that finds nothing and
    // without taking the write lock, which keeps idle polling cheap. It is only a hint: the
    // UPDATE alone decides what this receiver gets.
    auto visible = Exec("look for visible messages", kAnyVisibleSql, now);
    if (!visible) return std::unexpected(visible.error());
    if (visible->empty()) return std::vector<Message>{};
    const std::string receipt = NewReceipt();
    auto rows = Exec("receive", kReceiveSql, receipt, now + visibility_timeout_.count(), now,
                     static_cast<std::int64_t>(std::min<std::size_t>(max, INT64_MAX)));
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::pair<std::int64_t, Message>> claimed;
    claimed.reserve(rows->size());
    for (const auto& row : *rows) {
      const auto id = row[0].as<std::int64_t>();
      claimed.emplace_back(id, Message{.id = std::to_string(id),
                                       .body = row[1].as<std::string>(),
                                       .delivery_count = row[2].as<int>(),
                                       .receipt = receipt});
    }
    // RETURNING has no defined order.
    std::ranges::sort(claimed, {}, &std::pair<std::int64_t, Message>::first);
    std::vector<Message> messages;
    messages.reserve(claimed.size());
    for (auto& [id, message] : claimed) messages.push_back(std::move(message));
    return messages;
  }

  static Result<std::int64_t> IdOf(std::string_view what, const Message& message) {
    std::int64_t id = 0;
    const char* end = message.id.data() + message.id.size();
    if (auto [ptr, ec] = std::from_chars(message.id.data(), end, id);
        ec != std::errc() || ptr != end) {
      return Fail(
          ErrorCode::kInvalidArgument,
          std::format("cannot {} message \"{}\": not an id of this queue", what, message.id));
    }
    return id;
  }

  // Runs `sql`, which changes one delivery and ends in "... id = $n AND receipt = $n+1",
  // with `args` bound before the id and receipt.
  template <typename... Args>
  Result<void> ChangeDelivery(std::string_view what, const Message& message, const std::string& sql,
                              Args&&... args) {
    auto id = IdOf(what, message);
    if (!id) return std::unexpected(id.error());
    auto changed = Exec(what, sql, std::forward<Args>(args)..., *id, message.receipt);
    if (!changed) return std::unexpected(changed.error());
    if (changed->affectedRows() == 0) {
      return Fail(ErrorCode::kConflict,
                  std::format("cannot {} message {}: this delivery is over (it timed out and "
                              "was received again, or was acknowledged, released or "
                              "dead-lettered)",
                              what, message.id));
    }
    return {};
  }

  // BEGIN IMMEDIATE takes the write lock before reading the version, so processes that
  // open a new file together apply each migration exactly once. Nothing else uses the
  // connection yet, so the transaction cannot interleave with other statements.
  Result<void> Migrate() {
    if (auto begun = Exec("lock the schema", "BEGIN IMMEDIATE"); !begun) {
      return std::unexpected(begun.error());
    }
    Result<void> migrated = ApplyMigrations();
    if (migrated) {
      auto committed = Exec("commit the schema", "COMMIT");
      if (committed) return {};
      migrated = std::unexpected(committed.error());
    }
    if (auto rolled_back = Exec("roll back the schema", "ROLLBACK"); !rolled_back) {
      migrated.error().message += " (" + rolled_back.error().message + ")";
    }
    return migrated;
  }

  Result<void> ApplyMigrations() {
    if (auto created = Exec("create the schema_version table",
                            "CREATE TABLE IF NOT EXISTS schema_version ("
                            "version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
        !created) {
      return std::unexpected(created.error());
    }
    auto current =
        Exec("read the schema version", "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!current) return std::unexpected(current.error());
    const auto version = current->front()[0].as<std::size_t>();
    if (version > std::size(kMigrations)) {
      return Fail(ErrorCode::kUnavailable,
                  std::format("queue {} has schema version {}, newer than this build knows ({})",
                              path_, version, std::size(kMigrations)));
    }
    for (std::size_t next = version; next < std::size(kMigrations); ++next) {
      for (std::string_view statement : kMigrations[next]) {
        if (auto applied = Exec("migrate the schema", std::string(statement)); !applied) {
          return std::unexpected(applied.error());
        }
      }
      if (auto recorded = Exec("record the schema version",
                               "INSERT INTO schema_version (version, applied_at_ms) "
                               "VALUES ($1, $2)",
                               static_cast<std::int64_t>(next + 1), NowMs());
          !recorded) {
        return std::unexpected(recorded.error());
      }
    }
    return {};
  }

  std::shared_ptr<drogon::orm::DbClient> db_;
  const std::string path_;
  const milliseconds visibility_timeout_;
  const DurabilityLevel durability_;
  WakeChannel wake_;
};

}  // namespace

Result<std::unique_ptr<Queue>> OpenSqliteQueue(const std::filesystem::path& file,
                                               const QueueOptions& options) {
  if (options.visibility_timeout <= milliseconds(0)) {
    return Fail(ErrorCode::kInvalidArgument, "queue visibility timeout must be positive");
  }
  std::error_code error;
  const std::filesystem::path path = std::filesystem::absolute(file, error);
  if (error || path.string().find_first_of(std::string_view("\0\n", 2)) != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "queue database path is not usable: " + file.string());
  }
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return Fail(ErrorCode::kIo, std::format("cannot create the folder of queue database {}: {}",
                                            path.string(), error.message()));
  }
  auto db = db::OpenSqliteClient(path.string());
  if (!db) return Fail(db.error().code, "queue: " + db.error().message);
  auto queue = std::make_unique<SqliteQueue>(std::move(*db), path.string(), options);
  if (auto prepared = queue->Prepare(); !prepared) return std::unexpected(prepared.error());
  return queue;
}

}  // namespace argus::queue
