#pragma once

#include <drogon/orm/DbClient.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::db {

// Working around Drogon 1.9's database clients, shared by the SQLite catalog and queue.

// Quotes a value for a keyword/value connection string (libpq and Drogon): '...' with
// backslash and single quote escaped by a backslash.
std::string QuoteConnValue(std::string_view value);

// Waits until `db` has a connection ready, at most `limit`.
bool WaitForConnection(const drogon::orm::DbClient& db, std::chrono::milliseconds limit);

// A client with one connection to the SQLite file `path`, ready to run statements.
//
// Drogon 1.9 opens a SQLite connection on the connection's own thread and could finish
// before the client had installed its "connected" callback; such a client never ran a
// statement (several percent of opens). Opens now wait until the client is made. A client
// still not ready after 10 s gives kUnavailable, and is kept, never destroyed: closing and
// dropping one whose connection callback is still pending inside Drogon corrupted memory
// that later crashed the HTTP server's main loop.
Result<std::shared_ptr<drogon::orm::DbClient>> OpenSqliteClient(const std::string& path);

// Drops a client safely: closes its connections and lets go of the last reference on this
// thread. (Drogon's callbacks briefly hold references of their own; if one of them ends up
// last, the client is destroyed on its own event-loop thread, whose join of itself aborts
// the process.) Blocks for a few milliseconds; never call it on one of the client's own
// threads.
void ReleaseDbClient(std::shared_ptr<drogon::orm::DbClient> db);

}  // namespace argus::db
