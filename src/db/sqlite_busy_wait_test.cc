#include "db/sqlite_busy_wait.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/temp_dir_test.h"
#include "db/drogon_client.h"

namespace argus::db {
namespace {

class SqliteBusyWaitTest : public TempDirTest {};

// SQLite without a busy handler fails at once with "database is locked"; with ours, a
// writer waits for the other connection's transaction to end.
TEST_F(SqliteBusyWaitTest, AWriterWaitsForAnotherConnectionsTransaction) {
  const std::string path = (dir_ / "shared.db").string();
  auto holder = OpenSqliteClient(path);
  auto waiter = OpenSqliteClient(path);
  ASSERT_TRUE(holder && waiter);
  (*holder)->execSqlSync("CREATE TABLE notes (text TEXT)");
  (*holder)->execSqlSync("BEGIN IMMEDIATE");
  (*holder)->execSqlSync("INSERT INTO notes VALUES ('first')");
  std::jthread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*holder)->execSqlSync("COMMIT");
  });
  try {
    (*waiter)->execSqlSync("INSERT INTO notes VALUES ('second')");
  } catch (const drogon::orm::DrogonDbException& e) {
    FAIL() << "the writer did not wait: " << e.base().what();
  }
  committer.join();
  EXPECT_EQ((*waiter)->execSqlSync("SELECT count(*) FROM notes")[0][0].as<int>(), 2);
  ReleaseDbClient(std::move(*holder));
  ReleaseDbClient(std::move(*waiter));
}

}  // namespace
}  // namespace argus::db
