#include "cli/drogon_log.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace argus::cli
