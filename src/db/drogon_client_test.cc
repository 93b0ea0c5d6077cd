#include "db/drogon_client.h"

#include <drogon/HttpAppFramework.h>
#include <gtest/gtest.h>
#include <trantor/net/EventLoop.h>

#include <filesystem>

#include "common/temp_dir_test.h"

namespace argus::db {
namespace {

TEST(DrogonClientTest, QuotesConnectionValues) {
  EXPECT_EQ(QuoteConnValue(""), "''");
  EXPECT_EQ(QuoteConnValue("a b"), "'a b'");
  EXPECT_EQ(QuoteConnValue(R"(it's \)"), R"('it\'s \\')");
}

class SqliteClientTest : public TempDirTest {};

TEST_F(SqliteClientTest, OpensClientsThatRunStatementsAndReleasesThem) {
  const std::string path = (dir_ / "it's a.db").string();
  // A client whose open won Drogon's race against its own set-up never became ready, about
  // one open in twenty: a hundred opens meet it.
  for (int i = 0; i < 100; ++i) {
    auto db = OpenSqliteClient(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ((*db)->execSqlSync("SELECT 40 + 2")[0][0].as<int>(), 42);
    ReleaseDbClient(std::move(*db));
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
}

// The main thread opens and releases clients before the HTTP server's loop runs on it; the
// loop must still be that thread's own afterwards, as Drogon finds it by asking trantor.
TEST_F(SqliteClientTest, ReleasingAClientLeavesTheThreadsOwnEventLoopInPlace) {
  trantor::EventLoop* const loop = drogon::app().getLoop();  // made on this thread if new
  ASSERT_EQ(trantor::EventLoop::getEventLoopOfCurrentThread(), loop);
  auto db = OpenSqliteClient((dir_ / "a.db").string());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->execSqlSync("SELECT 1")[0][0].as<int>(), 1);
  ReleaseDbClient(std::move(*db));
  EXPECT_EQ(trantor::EventLoop::getEventLoopOfCurrentThread(), loop);
}

// CTest runs each test in a process of its own, so this open is the process's first.
TEST_F(SqliteClientTest, LetsDrogonSetSqlitesThreadingWithoutAnError) {
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  auto db = OpenSqliteClient((dir_ / "first.db").string());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ((*db)->execSqlSync("SELECT 1")[0][0].as<int>(), 1);
  ReleaseDbClient(std::move(*db));
  const std::string output =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(output.find("SQLITE_CONFIG_MULTITHREAD"), std::string::npos) << output;
}

}  // namespace
}  // namespace argus::db
