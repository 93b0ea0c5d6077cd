#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::catalog {

// A catalog URL taken apart (internal to the catalog module; OpenCatalog uses it).
struct CatalogUrl {
  enum class Kind : std::uint8_t { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  // kSqlite: the database file, as given ("sqlite:///abs/x.db" → "/abs/x.db",
  // "sqlite://rel.db" → "rel.db", relative to the working directory).
  std::string sqlite_path;
  // kPostgres: a libpq keyword/value connection string ("host='h' port='5432' ...") built
  // from "postgresql://user:pass@host:port/db?key=value" (or "postgres://"), every part
  // percent-decoded; query parameters are passed on as libpq keywords (sslmode=...).
  std::string pg_conninfo;
  // kPostgres: the URL's connect_timeout in seconds (0 when not given), which also bounds
  // how long OpenCatalog waits for the first connection.
  int pg_connect_timeout_s = 0;
  // The URL with any password replaced by "***", for messages and logs.
  std::string redacted;
};

// kInvalidArgument for an unknown scheme, an empty SQLite path, a bad port, malformed
// percent-escapes or query parameters.
Result<CatalogUrl> ParseCatalogUrl(std::string_view url);

}  // namespace argus::catalog
