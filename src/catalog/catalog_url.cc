#include "catalog/catalog_url.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include "db/drogon_client.h"

namespace argus::catalog {
namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";
constexpr std::string_view kPostgresSchemes[] = {"postgresql://", "postgres://"};

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Percent-decoding; "+" stays "+" (this is not form encoding).
Result<std::string> PercentDecode(std::string_view text, std::string_view what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    bool complete = i + 2 < text.size();
    std::optional<int> hi = complete ? HexValue(text[i + 1]) : std::nullopt;
    std::optional<int> lo = complete ? HexValue(text[i + 2]) : std::nullopt;
    if (!hi || !lo) {
      return Fail(ErrorCode::kInvalidArgument,
                  "catalog URL: malformed percent-escape in the " + std::string(what));
    }
    out.push_back(static_cast<char>(*hi * 16 + *lo));
    i += 2;
  }
  return out;
}

bool IsKeyword(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  return true;
}

// A raw "@", "/" or "?" in the user name or password makes the URL come apart in the wrong
// places: the host, port or database read then is a piece of the password, and a message
// naming that part would show the piece. Such a URL is refused with what to encode, echoing
// none of it. `rest` is the URL after the scheme.
Result<void> RefuseUnencodedUserInfo(std::string_view rest) {
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view after =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  const std::size_t first_at = authority.find('@');
  const std::size_t colon = authority.find(':');
  // The password is what follows a ":" before the first "@" (user:pass@); the user name is
  // the rest.
  const std::string_view part =
      colon != std::string_view::npos && colon < first_at ? "password" : "user name";
  auto refuse = [part](std::string_view character) {
    return Fail(ErrorCode::kInvalidArgument,
                "catalog URL: the " + std::string(part) + " contains a raw " +
                    std::string(character) +
                    ", which must be percent-encoded (\"@\" as %40, \"/\" as %2F, \"?\" as "
                    "%3F), as in postgresql://user:p%40ss%2Fword@host/db");
  };
  // The last "@" ends the user information; one before it belongs to the user or password.
  if (first_at != std::string_view::npos && first_at != authority.rfind('@')) {
    return refuse("\"@\"");
  }
  // An "@" in the database name, or in the query before its first "=", is where the user
  // information ended when a "/" or "?" in it was taken for the end of the host. (A database
  // name with an "@" must then be written with %40.)
  const std::size_t query_start = after.find('?');
  const std::string_view path = after.substr(0, query_start);
  const std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : after.substr(query_start + 1);
  const std::string_view first_key = query.substr(0, query.find_first_of("=&"));
  if (!authority.empty() && (path.contains('@') || first_key.contains('@'))) {
    return refuse("\"/\" or \"?\"");
  }
  // "user:pa?ss=word@host": the "?" ended the authority after a piece of the password, read
  // as a port that is no number, and the "@" went into a query value.
  const std::size_t port_colon = authority.rfind(':');
  if (first_at == std::string_view::npos && !authority.starts_with('[') &&
      port_colon != std::string_view::npos && query.contains('@')) {
    const std::string_view port = authority.substr(port_colon + 1);
    if (!std::ranges::all_of(port, [](char c) { return c >= '0' && c <= '9'; })) {
      return refuse("\"?\"");
    }
  }
  return {};
}

Result<CatalogUrl> ParsePostgres(std::string_view url, std::string_view rest) {
  if (auto encoded = RefuseUnencodedUserInfo(rest); !encoded) {
    return std::unexpected(encoded.error());
  }
  CatalogUrl parsed;
  parsed.kind = CatalogUrl::Kind::kPostgres;
  std::string_view scheme = url.substr(0, url.size() - rest.size());

  std::string_view query;
  if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view userinfo;
  std::string_view hostport = rest;
  if (std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    hostport = rest.substr(at + 1);
  }

  std::vector<std::pair<std::string, std::string>> params;
  std::string redacted_userinfo;
  if (!userinfo.empty()) {
    std::string_view user = userinfo;
    std::optional<std::string_view> password;
    if (std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      user = userinfo.substr(0, colon);
      password = userinfo.substr(colon + 1);
    }
    auto user_decoded = PercentDecode(user, "user name");
    if (!user_decoded) return std::unexpected(user_decoded.error());
    if (!user_decoded->empty()) params.emplace_back("user", *user_decoded);
    redacted_userinfo = std::string(user);
    if (password) {
      auto password_decoded = PercentDecode(*password, "password");
      if (!password_decoded) return std::unexpected(password_decoded.error());
      params.emplace_back("password", *password_decoded);
      redacted_userinfo += ":***";
    }
    redacted_userinfo += "@";
  }

  std::string_view host = hostport;
  std::string_view port;
  if (hostport.starts_with('[')) {  // [IPv6]:port
    std::size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Fail(ErrorCode::kInvalidArgument, "catalog URL: unterminated [IPv6] host");
    }
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        return Fail(ErrorCode::kInvalidArgument, "catalog URL: unexpected text after ]");
      }
      port = after.substr(1);
    }
  } else if (std::size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
  }
  if (!host.empty()) {
    auto host_decoded = PercentDecode(host, "host");
    if (!host_decoded) return std::unexpected(host_decoded.error());
    params.emplace_back("host", *host_decoded);
  }
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return Fail(ErrorCode::kInvalidArgument,
                  "catalog URL: bad port \"" + std::string(port) + "\"");
    }
    params.emplace_back("port", std::to_string(value));
  }
  if (!path.empty()) {
    auto db_decoded = PercentDecode(path, "database name");
    if (!db_decoded) return std::unexpected(db_decoded.error());
    params.emplace_back("dbname", *db_decoded);
  }

  std::string redacted_query;
  while (!query.empty()) {
    std::string_view item = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), item.size() + 1));
    if (item.empty()) continue;
    std::size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    if (eq == std::string_view::npos || !IsKeyword(key)) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "catalog URL: bad query parameter \"" + std::string(key) + "\" (expected keyword=value)");
    }
    auto value = PercentDecode(item.substr(eq + 1), "query");
    if (!value) return std::unexpected(value.error());
    if (key == "connect_timeout") {
      const char* end = value->data() + value->size();
      auto [stop, ec] = std::from_chars(value->data(), end, parsed.pg_connect_timeout_s);
      if (ec != std::errc() || stop != end || parsed.pg_connect_timeout_s < 0) {
        return Fail(ErrorCode::kInvalidArgument,
                    "catalog URL: connect_timeout must be a number of seconds");
      }
    }
    params.emplace_back(std::string(key), *value);
    redacted_query += (redacted_query.empty() ? "?" : "&");
    redacted_query += key == "password" ? std::string(key) + "=***" : std::string(item);
  }

  for (const auto& [key, value] : params) {
    if (!parsed.pg_conninfo.empty()) parsed.pg_conninfo += ' ';
    parsed.pg_conninfo += key + "=" + db::QuoteConnValue(value);
  }
  parsed.redacted = std::string(scheme) + redacted_userinfo + std::string(hostport) +
                    (path.empty() ? "" : "/" + std::string(path)) + redacted_query;
  return parsed;
}

}  // namespace

Result<CatalogUrl> ParseCatalogUrl(std::string_view url) {
  if (url.starts_with(kSqliteScheme)) {
    CatalogUrl parsed;
    parsed.kind = CatalogUrl::Kind::kSqlite;
    parsed.sqlite_path = std::string(url.substr(kSqliteScheme.size()));
    parsed.redacted = std::string(url);
    if (parsed.sqlite_path.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "catalog URL \"" + parsed.redacted +
                      "\" has no file: use sqlite:///abs/path.db or sqlite://relative.db");
    }
    if (parsed.sqlite_path.find('\0') != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument, "catalog URL: NUL byte in the SQLite path");
    }
    return parsed;
  }
  for (std::string_view scheme : kPostgresSchemes) {
    if (url.starts_with(scheme)) return ParsePostgres(url, url.substr(scheme.size()));
  }
  // Only the scheme is shown: the rest may hold a password.
  std::size_t scheme_end = url.find("://");
  std::string shown = scheme_end == std::string_view::npos
                          ? "without a scheme"
                          : "scheme \"" + std::string(url.substr(0, scheme_end)) + "\"";
  return Fail(ErrorCode::kInvalidArgument,
              "unsupported catalog URL (" + shown +
                  "): expected sqlite:///abs/path.db, sqlite://relative.db or "
                  "postgresql://user:pass@host:port/db");
}

}  // namespace argus::catalog
