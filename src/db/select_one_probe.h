#pragma once

#include <chrono>
#include <functional>

namespace drogon::orm {
class DbClient;
}  // namespace drogon::orm

namespace argus::db {

// A probe for a SilenceWatch on a PostgreSQL server: whether it answers "SELECT 1" sent
// through `db` within `wait`. A probe not answered in time stays outstanding, and the next
// call waits for it again instead of sending another: it queues behind the unanswered
// statements of its connection, if it gets one of theirs, and is answered once the server
// answers again. `db` must outlive the probe.
std::function<bool()> SelectOneProbe(drogon::orm::DbClient& db, std::chrono::milliseconds wait);

}  // namespace argus::db
