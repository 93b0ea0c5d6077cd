#include "events/nats_connection.h"

#include <algorithm>
#include <chrono>
#include <format>
#include <random>

namespace argus::nats {
namespace {

// Refused connections fail at once; this bounds a server that does not answer at all.
constexpr int64_t kConnectTimeoutMs = 2000;
// A server that vanished without closing the connection is noticed after two unanswered
// pings, within about 15 s (nats.c's defaults would take 4 minutes).
constexpr int64_t kPingIntervalMs = 5000;
constexpr int kMaxPingsOut = 2;
constexpr int64_t kFirstReconnectDelayMs = 50;
constexpr int64_t kMaxReconnectDelayMs = 2000;
// While the server is silent: how long a ping may wait for its answer, and the pause before
// each ping (after the unanswered request, and after a ping that failed).
constexpr int64_t kProbeWaitMs = 1000;
constexpr std::chrono::milliseconds kProbePause{250};

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// nats.c's texts start with the source location, "(conn.c:1234): ".
std::string_view WithoutLocation(std::string_view text) {
  if (text.starts_with('(')) {
    if (const std::size_t end = text.find("): "); end != std::string_view::npos) {
      return text.substr(end + 3);
    }
  }
  return text;
}

// "Timeout", or "Error (stream name already in use with a different configuration)".
std::string Describe(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  const char* last = nats_GetLastError(nullptr);
  const std::string_view detail = WithoutLocation(last == nullptr ? "" : last);
  if (!detail.empty() && detail != text) text += std::format(" ({})", detail);
  return text;
}

// 50 ms after the first failed round of attempts, doubling up to 2 s, each with up to a
// quarter of random jitter so that many clients do not return in step.
int64_t ReconnectDelay(natsConnection*, int attempts, void*) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int64_t delay =
      std::min(kMaxReconnectDelayMs, kFirstReconnectDelayMs << std::clamp(attempts, 0, 10));
  return delay + std::uniform_int_distribution<int64_t>(0, delay / 4)(random);
}

Result<void> Check(natsStatus status, const Url& url) {
  if (status == NATS_OK) return {};
  return Fail(ErrorCode::kUnavailable,
              std::format("cannot set up a NATS client for {}: {}", url.shown, Describe(status)));
}

}  // namespace

Result<Url> ParseUrl(std::string_view rest) {
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view name =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  const std::size_t at = authority.rfind('@');
  const std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (host.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "the NATS URL names no server: use nats://host:port or nats://host:port/NAME");
  }
  if (name.size() > 64 || !std::ranges::all_of(name, IsNameCharacter)) {
    return Fail(ErrorCode::kInvalidArgument,
                std::format("the NATS URL for {} has the path \"{}\", which is not a name "
                            "(up to 64 letters, digits, '-' or '_')",
                            host, name));
  }
  return Url{.server = "nats://" + std::string(authority),
             .shown = std::string(host),
             .name = std::string(name)};
}

Result<std::shared_ptr<Connection>> Connection::Open(const Url& url) {
  natsOptions* raw_options = nullptr;
  if (auto created = Check(natsOptions_Create(&raw_options), url); !created) {
    return std::unexpected(created.error());
  }
  const std::unique_ptr<natsOptions, Deleter<natsOptions_Destroy>> options(raw_options);
  natsStatus status = natsOptions_SetURL(raw_options, url.server.c_str());
  if (status == NATS_OK) status = natsOptions_SetName(raw_options, "argus");
  if (status == NATS_OK) status = natsOptions_SetTimeout(raw_options, kConnectTimeoutMs);
  if (status == NATS_OK) status = natsOptions_SetPingInterval(raw_options, kPingIntervalMs);
  if (status == NATS_OK) status = natsOptions_SetMaxPingsOut(raw_options, kMaxPingsOut);
  if (status == NATS_OK) status = natsOptions_SetMaxReconnect(raw_options, -1);
  if (status == NATS_OK) {
    status = natsOptions_SetCustomReconnectDelay(raw_options, ReconnectDelay, nullptr);
  }
  // A request in flight when the connection drops fails then instead of at its timeout.
  if (status == NATS_OK) status = natsOptions_SetFailRequestsOnDisconnect(raw_options, true);
  if (auto set = Check(status, url); !set) return std::unexpected(set.error());

  natsConnection* connection = nullptr;
  status = natsConnection_Connect(&connection, raw_options);
  if (status != NATS_OK) {
    return Fail(ErrorCode::kUnavailable,
                std::format("cannot connect to NATS at {}: {}", url.shown, Describe(status)));
  }
  return std::shared_ptr<Connection>(new Connection(connection, url.shown));
}

Connection::Connection(natsConnection* connection, std::string shown)
    : connection_(connection),
      shown_(std::move(shown)),
      silence_(std::make_unique<SilenceWatch>(
          [connection] { return natsConnection_FlushTimeout(connection, kProbeWaitMs) == NATS_OK; },
          kProbePause)) {}

Connection::~Connection() {
  // Closing first ends a ping the watch may be waiting for; the watch goes before the
  // connection it pings.
  natsConnection_Close(connection_);
  silence_.reset();
  natsConnection_Destroy(connection_);
}

Result<void> Connection::CheckAnswering() const {
  const natsConnStatus status = natsConnection_Status(connection_);
  if (status != NATS_CONN_STATUS_CONNECTED) {
    return Fail(
        ErrorCode::kUnavailable,
        std::format("NATS at {} is not reachable at the moment ({})", shown_,
                    status == NATS_CONN_STATUS_CLOSED ? "connection closed" : "reconnecting"));
  }
  if (silence_->silent()) {
    return Fail(
        ErrorCode::kUnavailable,
        std::format("NATS at {} is not answering (a request had no answer in time)", shown_));
  }
  return {};
}

std::uint64_t Connection::reconnects() const {
  natsStatistics* raw = nullptr;
  if (natsStatistics_Create(&raw) != NATS_OK) return 0;
  const std::unique_ptr<natsStatistics, Deleter<natsStatistics_Destroy>> statistics(raw);
  std::uint64_t count = 0;
  if (natsConnection_GetStats(connection_, raw) != NATS_OK ||
      natsStatistics_GetCounts(raw, nullptr, nullptr, nullptr, nullptr, &count) != NATS_OK) {
    return 0;
  }
  return count;
}

Error Connection::Failure(natsStatus status, std::string_view what) const {
  if (status == NATS_TIMEOUT) NoteUnanswered();
  return Error{status == NATS_MAX_PAYLOAD ? ErrorCode::kTooLarge : ErrorCode::kUnavailable,
               std::format("NATS at {}: cannot {}: {}", shown_, what, Describe(status))};
}

}  // namespace argus::nats
