#include "db/silent_server.h"

#include <drogon/orm/DbClient.h>
#include <drogon/orm/Exception.h>

namespace argus::db {

bool SilentServer::Answering(drogon::orm::DbClient& db) {
  if (!state_->silent) return true;
  if (!state_->probing.exchange(true)) {
    // A probe queues behind the unanswered statements of its connection, if it gets one of
    // theirs: it is answered once the server answers again, whichever connection it takes.
    db.execSqlAsync(
        "SELECT 1",
        [state = state_](const drogon::orm::Result& /*rows*/) {
          state->silent = false;
          state->probing = false;
        },
        // A connection that broke meanwhile: the next call sends another probe.
        [state = state_](const drogon::orm::DrogonDbException& /*error*/) {
          state->probing = false;
        });
  }
  return false;
}

void SilentServer::NoteUnanswered() { state_->silent = true; }

}  // namespace argus::db
