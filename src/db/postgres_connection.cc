#include "db/postgres_connection.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <format>
#include <optional>
#include <thread>
#include <vector>

#include "common/ascii.h"
#include "common/log.h"
#include "db/drogon_client.h"

namespace argus::db {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Between rounds over a server's addresses while none lets a connection through.
constexpr milliseconds kRetryPause{250};

// libpq's messages span lines (a hint after a tab, one line per address tried, the
// LOCATION of verbose messages); a log line wants one.
std::string OneLine(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::string_view raw = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), raw.size() + 1));
    const std::string_view line = TrimSpaces(raw);
    if (line.empty() || line.starts_with("LOCATION:")) continue;
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out;
}

bool IsSqlStateChar(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

// Verbose libpq messages put the server's SQLSTATE after the severity ("FATAL:  28000: role
// ... does not exist"); removes it from `message` and returns it, when there is one.
std::optional<std::string> TakeSqlState(std::string& message) {
  for (std::size_t at = message.find(":  "); at != std::string::npos;
       at = message.find(":  ", at + 1)) {
    const std::size_t code = at + 3;
    if (code + 7 > message.size() || message.compare(code + 5, 2, ": ") != 0) continue;
    if (!std::all_of(message.begin() + static_cast<std::ptrdiff_t>(code),
                     message.begin() + static_cast<std::ptrdiff_t>(code + 5), IsSqlStateChar)) {
      continue;
    }
    std::string state = message.substr(code, 5);
    message.erase(code, 7);
    return state;
  }
  return std::nullopt;
}

// Refusals that go away by themselves: connection exceptions (08), insufficient resources
// such as too many connections (53), and a server starting up or shutting down (57).
bool PassesWithTime(std::string_view sql_state) {
  const std::string_view kind = sql_state.substr(0, 2);
  return kind == "08" || kind == "53" || kind == "57";
}

enum class Outcome : std::uint8_t { kConnected, kRefusedForGood, kFailed };

struct Attempt {
  Outcome outcome;
  std::string reason;
};

// One test connection with `conninfo`, given up at `deadline`.
Attempt TryConnect(const std::string& conninfo, Clock::time_point deadline) {
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectStart(conninfo.c_str()), PQfinish);
  if (!conn) return {Outcome::kFailed, "libpq is out of memory"};
  // The SQLSTATE of verbose messages tells a refusal for good from one worth waiting out.
  PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
  // libpq's protocol: start as though PQconnectPoll had asked to wait for writing.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (PQstatus(conn.get()) != CONNECTION_BAD && polling != PGRES_POLLING_FAILED) {
    if (polling == PGRES_POLLING_OK) return {Outcome::kConnected, ""};
    const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    if (left <= milliseconds::zero()) {
      return {Outcome::kFailed, "no answer from the server in time"};
    }
    pollfd socket{.fd = PQsocket(conn.get()),
                  .events = static_cast<short>(polling == PGRES_POLLING_READING ? POLLIN : POLLOUT),
                  .revents = 0};
    const int ready = ::poll(&socket, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return {Outcome::kFailed, std::string("poll: ") + std::strerror(errno)};
    }
    if (ready > 0) polling = PQconnectPoll(conn.get());
  }
  std::string message = PQerrorMessage(conn.get());
  const std::optional<std::string> state = TakeSqlState(message);
  // libpq's own refusals carry no SQLSTATE: a password that is missing, and an sslmode the
  // server cannot meet, are not worth waiting out.
  const bool for_good = state
                            ? !PassesWithTime(*state)
                            : PQconnectionNeedsPassword(conn.get()) != 0 ||
                                  message.find("server does not support SSL") != std::string::npos;
  return {for_good ? Outcome::kRefusedForGood : Outcome::kFailed, OneLine(message)};
}

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// The numeric addresses of `host`, in getaddrinfo's order (which libpq follows too).
Result<std::vector<std::string>> Resolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int status = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); status != 0) {
    return Fail(status == EAI_AGAIN ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument,
                std::format("cannot resolve host \"{}\": {}", host, ::gai_strerror(status)));
  }
  std::vector<std::string> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST];
    if (::getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof text, nullptr, 0,
                      NI_NUMERICHOST) != 0) {
      continue;
    }
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.emplace_back(text);
    }
  }
  ::freeaddrinfo(found);
  if (addresses.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                std::format("cannot resolve host \"{}\": no address", host));
  }
  return addresses;
}

// The connection strings to try, one per address of the host `conninfo` names.
Result<std::vector<std::string>> Candidates(const std::string& conninfo) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string message = parse_error != nullptr ? OneLine(parse_error) : "libpq is out of memory";
    PQfreemem(parse_error);
    return Fail(ErrorCode::kInvalidArgument, message);
  }
  std::string host, hostaddr;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    if (std::strcmp(option->keyword, "host") == 0) host = option->val;
    if (std::strcmp(option->keyword, "hostaddr") == 0) hostaddr = option->val;
  }
  PQconninfoFree(options);
  // What libpq falls back on.
  if (host.empty()) host = Environment("PGHOST");
  if (hostaddr.empty()) hostaddr = Environment("PGHOSTADDR");
  if (host.contains(',') || hostaddr.contains(',')) {
    return Fail(ErrorCode::kInvalidArgument,
                "several PostgreSQL hosts are not supported: name one host (a load balancer or "
                "a name that resolves to the primary)");
  }
  // Unix sockets ("/dir", "@abstract", or libpq's default folder) have one address.
  if (!hostaddr.empty() || host.empty() || host.starts_with('/') || host.starts_with('@')) {
    return std::vector{conninfo};
  }
  auto addresses = Resolve(host);
  if (!addresses) return std::unexpected(addresses.error());
  std::vector<std::string> candidates;
  for (const std::string& address : *addresses) {
    candidates.push_back(conninfo + " hostaddr=" + QuoteConnValue(address));
  }
  return candidates;
}

}  // namespace

Result<std::string> PinPostgresServer(std::string_view conninfo, milliseconds wait) {
  auto candidates = Candidates(std::string(conninfo));
  if (!candidates) return std::unexpected(candidates.error());
  const auto deadline = Clock::now() + wait;
  std::string reasons;
  while (true) {
    reasons.clear();
    for (std::size_t i = 0; i < candidates->size(); ++i) {
      // An equal share of the time left for each address left, so that one whose packets
      // are dropped cannot take the others' time.
      const auto share = (deadline - Clock::now()) / static_cast<int>(candidates->size() - i);
      Attempt attempt = TryConnect((*candidates)[i], Clock::now() + share);
      if (attempt.outcome == Outcome::kConnected) return (*candidates)[i];
      if (attempt.outcome == Outcome::kRefusedForGood) {
        return Fail(ErrorCode::kInvalidArgument, attempt.reason);
      }
      if (!reasons.empty()) reasons += "; ";
      reasons += attempt.reason;
    }
    if (Clock::now() + kRetryPause >= deadline) break;
    std::this_thread::sleep_for(kRetryPause);
  }
  return Fail(ErrorCode::kUnavailable,
              std::format("no connection within {:.3g} s: {}",
                          std::chrono::duration<double>(wait).count(), reasons));
}

Result<std::shared_ptr<drogon::orm::DbClient>> OpenPostgresClient(std::string_view conninfo,
                                                                  std::size_t connections,
                                                                  milliseconds wait) {
  auto pinned = PinPostgresServer(conninfo, wait);
  if (!pinned) return std::unexpected(pinned.error());
  auto db = drogon::orm::DbClient::newPgClient(*pinned, connections);
  if (!db) return Fail(ErrorCode::kUnavailable, "Drogon was built without PostgreSQL support");
  if (!WaitForConnection(*db, wait)) {
    ReleaseDbClient(std::move(db));
    return Fail(ErrorCode::kUnavailable,
                "the server took a test connection but none of the client's");
  }
  return db;
}

}  // namespace argus::db

// libpq hands what a server says outside a query's result to the connection's notice
// processor, whose default prints it on stderr as plain text: "FATAL:  terminating connection
// due to administrator command" at every restart or failover, among the JSON log lines
// (several at each ended connection). Drogon 1.9 sets no processor and offers no
// hook to its connections, so PQconnectStart, which it calls for each, is interposed: this
// definition in the executable comes before libpq's for every library that calls it (ELF
// symbol interposition), and gives each new connection a processor that logs one JSON line.
extern "C" PGconn* PQconnectStart(const char* conninfo) {
  using Start = PGconn* (*)(const char*);
  static const auto libpq_start = reinterpret_cast<Start>(dlsym(RTLD_NEXT, "PQconnectStart"));
  PGconn* connection = libpq_start(conninfo);
  if (connection != nullptr) {
    PQsetNoticeProcessor(
        connection,
        [](void* /*argument*/, const char* message) {
          argus::LogLine("warning", "postgres", argus::db::OneLine(message));
        },
        nullptr);
  }
  return connection;
}
