#pragma once

#include <drogon/orm/DbClient.h>

#include "common/error.h"

namespace argus::db {

// Puts the SQLite file of `db` in write-ahead-log mode, shared by the SQLite catalog and
// queue. Switching a new file needs an exclusive lock for which SQLite does not wait on the
// busy timeout, so processes opening a fresh file together retry for up to two seconds.
// kUnavailable when the lock stays taken, or when SQLite cannot keep a write-ahead log for
// the file (the mode it reports instead is in the message); callers name the file in front
// of the message.
Result<void> UseWriteAheadLog(drogon::orm::DbClient& db);

}  // namespace argus::db
