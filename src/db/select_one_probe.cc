#include "db/select_one_probe.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

#include <future>
#include <memory>

namespace argus::db {

std::function<bool()> SelectOneProbe(drogon::orm::DbClient& db, std::chrono::milliseconds wait) {
  return [&db, wait, pending = std::shared_future<bool>()]() mutable {
    if (!pending.valid() ||
        pending.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      // Shared with the callbacks, which may run after the probe is gone.
      auto answered = std::make_shared<std::promise<bool>>();
      pending = answered->get_future().share();
      db.execSqlAsync(
          "SELECT 1",
          [answered](const drogon::orm::Result& /*rows*/) { answered->set_value(true); },
          // A connection that broke meanwhile: the next call sends another probe.
          [answered](const drogon::orm::DrogonDbException& /*error*/) {
            answered->set_value(false);
          });
    }
    return pending.wait_for(wait) == std::future_status::ready && pending.get();
  };
}

}  // namespace argus::db
