// Runs the real `argus` binary with PostgreSQL catalog URLs that Drogon could not take as
// they were (see db::PinPostgresServer).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json/json.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "cli/run_argus_test.h"
#include "common/temp_dir_test.h"
#include "common/unused_port_test.h"

namespace argus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The message of the last JSON line of `err` whose level is "error" ("" when none is).
std::string ErrorMessage(const std::string& err) {
  std::istringstream in(err);
  std::string line, message;
  Json::CharReaderBuilder builder;
  while (std::getline(in, line)) {
    Json::Value value;
    std::istringstream line_in(line);
    std::string errors;
    if (Json::parseFromStream(builder, line_in, &value, &errors) && value.isObject() &&
        value["level"].asString() == "error") {
      message = value["message"].asString();
    }
  }
  return message;
}

class PostgresCatalogTest : public TempDirTest {
 protected:
  // `argus web` on a free port with `catalog`, run until it exits (`timeout` stops it).
  Outcome RunWeb(const std::string& catalog, const std::string& timeout = "timeout 60") {
    return RunArgus("web --host 127.0.0.1 --port " + std::to_string(UnusedLoopbackPort()) +
                        " --data-dir " + (dir_ / "data").string() + " --catalog '" + catalog + "'",
                    timeout);
  }
};

TEST_F(PostgresCatalogTest, AHostThatDoesNotResolveIsAUsageErrorThatSaysSo) {
  const Outcome o = RunWeb("postgresql://nowhere.invalid/db");
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_THAT(ErrorMessage(o.err), HasSubstr("cannot resolve host \"nowhere.invalid\"")) << o.err;
  EXPECT_THAT(o.err, Not(HasSubstr("Socket fd < 0")));
}

TEST_F(PostgresCatalogTest, AnUnknownConnectionOptionIsAUsageErrorThatSaysSo) {
  const Outcome o = RunWeb("postgresql://127.0.0.1:1/db?bogus=1");
  EXPECT_EQ(o.exit_code, 2) << o.err;
  EXPECT_THAT(ErrorMessage(o.err), HasSubstr("invalid connection option \"bogus\"")) << o.err;
  EXPECT_THAT(o.err, Not(HasSubstr("Socket fd < 0")));
}

// A server not up yet, as in a cold start of a whole deployment: the web tier waits for it,
// saying why, and stops when told.
TEST_F(PostgresCatalogTest, NothingListeningOnLocalhostIsWaitedForWithTheReason) {
  const Outcome o = RunWeb("postgresql://localhost:1/db?connect_timeout=1",
                           "timeout --preserve-status -s TERM 4");
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_THAT(o.err, HasSubstr("waiting for the stores: catalog: "));
  EXPECT_THAT(o.err, HasSubstr("Connection refused"));
  EXPECT_THAT(o.err, HasSubstr("stopped while waiting for the stores"));
}

// The server of scripts/with-postgres listens on 127.0.0.1 only, and localhost is ::1 first.
class LocalhostPostgresTest : public PostgresCatalogTest {
 protected:
  void SetUp() override {
    PostgresCatalogTest::SetUp();
    const char* url = std::getenv("ARGUS_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_SKIP() << "ARGUS_TEST_POSTGRES_URL is unset (scripts/with-postgres sets it)";
    }
    // postgresql://postgres@127.0.0.1:PORT/postgres
    const std::string text = url;
    const std::size_t colon = text.rfind(':');
    port_ = text.substr(colon + 1, text.find('/', colon) - colon - 1);
  }

  std::string port_;
};

TEST_F(LocalhostPostgresTest, AWorkerStartsOnALocalhostUrl) {
  const std::string data = (dir_ / "data").string();
  std::filesystem::create_directories(data);
  const Outcome o =
      RunArgus("worker --data-dir " + data + " --catalog postgresql://postgres@localhost:" + port_ +
                   "/postgres",
               "ARGUS_ASSETS_DIR=" ARGUS_TEST_SHARED_DIR "/assets timeout -s TERM 15");
  EXPECT_EQ(o.exit_code, 124) << "the worker did not run until it was stopped\n" << o.err;
  EXPECT_THAT(o.err, HasSubstr("ready with model"));
}

TEST_F(LocalhostPostgresTest, AnUnknownRoleOrDatabaseIsReportedAtOnceWithTheReason) {
  const auto start = std::chrono::steady_clock::now();
  const Outcome role = RunWeb("postgresql://nobody@localhost:" + port_ + "/postgres");
  EXPECT_EQ(role.exit_code, 2) << role.err;
  // libpq names the address it was given (hostaddr), which shows which one answered.
  EXPECT_EQ(ErrorMessage(role.err), "catalog: postgresql://nobody@localhost:" + port_ +
                                        "/postgres: connection to server at \"127.0.0.1\", port " +
                                        port_ + " failed: FATAL:  role \"nobody\" does not exist")
      << role.err;
  const Outcome database = RunWeb("postgresql://postgres@localhost:" + port_ + "/nodb");
  EXPECT_EQ(database.exit_code, 2) << database.err;
  EXPECT_THAT(ErrorMessage(database.err), HasSubstr("FATAL:  database \"nodb\" does not exist"))
      << database.err;
  // A refusal for good used to be retried for the whole 10 s wait.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace argus::cli
