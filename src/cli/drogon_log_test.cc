#include "cli/drogon_log.h"

#include <gtest/gtest.h>
#include <trantor/utils/Logger.h>

#include <string>

namespace argus::cli {
namespace {

TEST(DrogonLogTest, TakesTheLevelAndMessageOfTrantorsLines) {
  const DrogonLine error = ParseDrogonLine(
      "20261206 06:53:56.975306 UTC 28295 ERROR ERROR:  permission denied for table x - "
      "PgBatchConnection.cc:511\n");
  EXPECT_EQ(error.level, "error");
  EXPECT_EQ(error.message, "ERROR:  permission denied for table x - PgBatchConnection.cc:511");
  const DrogonLine warning =
      ParseDrogonLine("20261206 06:53:56.975306 UTC 28295 WARN  Retrying - Client.cc:1\n");
  EXPECT_EQ(warning.level, "warning");
  EXPECT_EQ(warning.message, "Retrying - Client.cc:1");
  const DrogonLine odd = ParseDrogonLine("not a trantor line");
  EXPECT_EQ(odd.level, "info");
  EXPECT_EQ(odd.message, "not a trantor line");
}

// While PostgreSQL was down, Drogon's client wrote each reconnection attempt: four lines a
// second from every process. A repeated line is written once in 10 s.
TEST(DrogonLogTest, ARepeatedLineIsWrittenOnceInTenSeconds) {
  LogDrogonAsJson();
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) LOG_ERROR << "!!!Pg connection failed: Connection refused";
  LOG_ERROR << "another failure";
  const std::string written = ::testing::internal::GetCapturedStderr();
  std::size_t lines = 0;
  for (std::size_t at = written.find("Pg connection failed"); at != std::string::npos;
       at = written.find("Pg connection failed", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << written;
  EXPECT_NE(written.find("another failure"), std::string::npos) << written;
  EXPECT_NE(written.find("\"component\":\"drogon\""), std::string::npos) << written;
}

}  // namespace
}  // namespace argus::cli
