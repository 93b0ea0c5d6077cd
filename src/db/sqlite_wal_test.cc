#include "db/sqlite_wal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/temp_dir_test.h"
#include "db/drogon_client.h"

namespace argus::db {
namespace {

class SqliteWalTest : public TempDirTest {
 protected:
  std::shared_ptr<drogon::orm::DbClient> Open(const std::string& path) {
    auto opened = OpenSqliteClient(path);
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? *opened : nullptr;
  }
};

TEST_F(SqliteWalTest, ANewFileWritesAheadToItsLog) {
  const std::string path = (dir_ / "fresh.db").string();
  auto db = Open(path);
  ASSERT_TRUE(db);
  auto switched = UseWriteAheadLog(*db);
  ASSERT_TRUE(switched) << switched.error().message;
  db->execSqlSync("CREATE TABLE notes (text TEXT)");
  EXPECT_EQ(db->execSqlSync("PRAGMA journal_mode")[0][0].as<std::string>(), "wal");
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  ReleaseDbClient(std::move(db));
}

// A process opening the same fresh file may be writing to it. SQLite then fails the switch at
// once ("database is locked") instead of waiting on the busy timeout; it is tried again.
TEST_F(SqliteWalTest, TheSwitchIsRetriedWhileAnotherConnectionWrites) {
  const std::string path = (dir_ / "shared.db").string();
  auto holder = Open(path);
  auto switcher = Open(path);
  ASSERT_TRUE(holder && switcher);
  holder->execSqlSync("CREATE TABLE notes (text TEXT)");
  holder->execSqlSync("BEGIN IMMEDIATE");
  holder->execSqlSync("INSERT INTO notes VALUES ('held')");
  std::jthread committer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    holder->execSqlSync("COMMIT");
  });
  auto switched = UseWriteAheadLog(*switcher);
  committer.join();
  ASSERT_TRUE(switched) << switched.error().message;
  EXPECT_EQ(switcher->execSqlSync("PRAGMA journal_mode")[0][0].as<std::string>(), "wal");
  EXPECT_EQ(switcher->execSqlSync("SELECT text FROM notes")[0][0].as<std::string>(), "held");
  ReleaseDbClient(std::move(holder));
  ReleaseDbClient(std::move(switcher));
}

// A damaged file is not waited for, as a locked one is: the operator must choose what to do.
TEST_F(SqliteWalTest, AFileThatIsNotADatabaseIsDamagedAndTheMessageSaysWhatToDo) {
  const std::filesystem::path path = dir_ / "damaged.db";
  std::ofstream(path, std::ios::binary) << std::string(8192, 'x');
  auto db = Open(path.string());
  ASSERT_TRUE(db);
  auto switched = UseWriteAheadLog(*db);
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ErrorCode::kCorrupt);
  EXPECT_THAT(switched.error().message, ::testing::HasSubstr("file is not a database"));
  EXPECT_THAT(switched.error().message, ::testing::HasSubstr("restore it from a copy"));
  ReleaseDbClient(std::move(db));
}

// An in-memory database keeps its journal in memory, as some file systems force SQLite to.
TEST_F(SqliteWalTest, ADatabaseThatCannotKeepALogIsRefusedWithTheModeItKeeps) {
  auto db = Open(":memory:");
  ASSERT_TRUE(db);
  auto switched = UseWriteAheadLog(*db);
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(switched.error().message.find("\"memory\""), std::string::npos)
      << switched.error().message;
  ReleaseDbClient(std::move(db));
}

}  // namespace
}  // namespace argus::db
