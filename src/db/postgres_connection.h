#pragma once

#include <drogon/orm/DbClient.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::db {

// Every PostgreSQL client argus opens goes through here, because Drogon 1.9 cannot be
// given a connection string as it is:
// - its connection watches the socket libpq opened first, and libpq opens another when
//   it moves on to a host name's next address ("localhost" is ::1, then 127.0.0.1), which
//   aborts the process inside trantor (a server listening on 127.0.0.1 only did it);
// - when libpq has no socket at all (a host that does not resolve, an unknown option) it
//   calls exit(1) with a message about the limit of open files;
// - it retries a refused connection every second forever, and says why only in a log line
//   of its own.

// Checks the libpq keyword/value connection string `conninfo` and finds the server it
// names, trying one test connection at a time. Returns `conninfo` with `hostaddr` set to
// the address that answered (host is kept: libpq still uses it for TLS and passwords),
// so that a connection made with it never changes sockets. A Unix-socket host, or a
// hostaddr given already, is kept as it is.
//
// kInvalidArgument, at once, when libpq rejects the string (its own message, such as
// `invalid connection option "bogus"`), names several hosts, the host does not resolve,
// or the server refuses the connection for a reason that waiting does not change
// (authentication, an unknown role or database; the server's message). kUnavailable when
// no address let a connection through within `wait` (refused, timed out, the server
// starting up or out of connection slots), with the last reasons, or when the name server
// could not be asked.
Result<std::string> PinPostgresServer(std::string_view conninfo, std::chrono::milliseconds wait);

// A Drogon client with `connections` connections to the server of `conninfo`, checked and
// pinned by PinPostgresServer first (whose errors it returns), with a connection ready.
Result<std::shared_ptr<drogon::orm::DbClient>> OpenPostgresClient(std::string_view conninfo,
                                                                  std::size_t connections,
                                                                  std::chrono::milliseconds wait);

}  // namespace argus::db
