#pragma once

// Test-only: databases of their own on the PostgreSQL server that ARGUS_TEST_POSTGRES_URL
// names (scripts/with-postgres sets it), and a way to make that server stop answering.

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <format>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "catalog/catalog_url.h"
#include "common/error.h"
#include "db/drogon_client.h"

namespace argus::catalog {

inline constexpr const char* kTestPostgresUrlVariable = "ARGUS_TEST_POSTGRES_URL";

// Runs `sql` on the database of the postgresql:// `url`: the first column of its rows, as text.
inline Result<std::vector<std::string>> RunPostgres(const std::string& url,
                                                    const std::string& sql) {
  auto parsed = ParseCatalogUrl(url);
  if (!parsed) return std::unexpected(parsed.error());
  auto db = drogon::orm::DbClient::newPgClient(parsed->pg_conninfo, 1);
  db::WaitForConnection(*db, std::chrono::seconds(10));
  Result<std::vector<std::string>> outcome;
  try {
    for (const auto& row : db->execSqlSync(sql)) {
      outcome->push_back(row[0].isNull() ? "" : row[0].as<std::string>());
    }
  } catch (const drogon::orm::DrogonDbException& e) {
    outcome = Fail(ErrorCode::kUnavailable, sql + ": " + e.base().what());
  }
  db::ReleaseDbClient(std::move(db));
  return outcome;
}

// The postgresql:// `url` with its database replaced by `database`.
inline std::string WithDatabase(const std::string& url, const std::string& database) {
  const std::size_t host = url.find("://") + 3;
  const std::size_t query = url.find('?');
  const std::size_t path = std::min(url.find('/', host), query);
  return url.substr(0, path) + "/" + database +
         (query == std::string::npos ? "" : url.substr(query));
}

// An empty database, dropped with this object; `name_prefix` and a number unique in the
// machine name it.
class PostgresTestDatabase {
 public:
  // kNotFound when ARGUS_TEST_POSTGRES_URL is unset.
  static Result<PostgresTestDatabase> Create(const std::string& name_prefix) {
    const char* server = std::getenv(kTestPostgresUrlVariable);
    if (server == nullptr || *server == '\0') {
      return Fail(ErrorCode::kNotFound,
                  std::string(kTestPostgresUrlVariable) +
                      " is unset: run the tests through scripts/with-postgres (make test does), or "
                      "set it to the URL of a PostgreSQL server whose user may CREATE DATABASE");
    }
    static std::atomic<int> created = 0;
    std::string name = std::format("{}_{}_{}", name_prefix, getpid(), created++);
    if (auto made = RunPostgres(server, "CREATE DATABASE " + name); !made) {
      return std::unexpected(made.error());
    }
    return PostgresTestDatabase(server, std::move(name));
  }

  PostgresTestDatabase(PostgresTestDatabase&& other) noexcept
      : server_(std::move(other.server_)), name_(std::exchange(other.name_, "")) {}
  PostgresTestDatabase& operator=(PostgresTestDatabase&&) = delete;
  ~PostgresTestDatabase() {
    if (!name_.empty())
      (void)RunPostgres(server_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

  const std::string& server_url() const { return server_; }
  const std::string& name() const { return name_; }
  std::string url() const { return WithDatabase(server_, name_); }

 private:
  PostgresTestDatabase(std::string server, std::string name)
      : server_(std::move(server)), name_(std::move(name)) {}

  std::string server_;
  std::string name_;
};

// Stops (SIGSTOP) the server processes behind every connection to one database: the
// connections stay open and nothing sent on them is answered, as when a network drops
// packets or a server hangs. Connections to other databases, other tests' among them, are
// untouched. Resumed (SIGCONT) by Resume or on destruction.
class FrozenBackends {
 public:
  // `server_url`: any database of the server, to look the connections up from.
  static Result<FrozenBackends> Freeze(const std::string& server_url, const std::string& database) {
    FrozenBackends frozen;
    // A connection that was still being made comes up later: freeze again until a pause
    // finds none left.
    for (int round = 0; round < 20; ++round) {
      auto pids = RunPostgres(server_url, "SELECT pid FROM pg_stat_activity WHERE datname = '" +
                                              database + "' AND state IS NOT NULL");
      if (!pids) return std::unexpected(pids.error());
      std::size_t new_ones = 0;
      for (const std::string& text : *pids) {
        const pid_t pid = std::stoi(text);
        if (std::ranges::find(frozen.pids_, pid) != frozen.pids_.end()) continue;
        if (::kill(pid, SIGSTOP) != 0) {
          return Fail(ErrorCode::kIo, std::format("cannot stop PostgreSQL backend {}: {}", pid,
                                                  std::generic_category().message(errno)));
        }
        frozen.pids_.push_back(pid);
        ++new_ones;
      }
      if (new_ones == 0 && !frozen.pids_.empty()) return frozen;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return Fail(ErrorCode::kInternal, "the database's connections kept changing");
  }

  FrozenBackends(FrozenBackends&& other) noexcept : pids_(std::exchange(other.pids_, {})) {}
  FrozenBackends& operator=(FrozenBackends&&) = delete;
  ~FrozenBackends() { Resume(); }

  void Resume() {
    for (pid_t pid : std::exchange(pids_, {})) ::kill(pid, SIGCONT);
  }

 private:
  FrozenBackends() = default;

  std::vector<pid_t> pids_;
};

}  // namespace argus::catalog
