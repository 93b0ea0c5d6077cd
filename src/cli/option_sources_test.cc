#include "cli/option_sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "cli/run_argus_test.h"
#include "common/temp_dir_test.h"

namespace argus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// An application wired as `argus` is, with one subcommand and one global option.
class OptionSourcesTest : public TempDirTest {
 protected:
  void TearDown() override {
    for (const char* name : {"ARGUS_TEST_PORT", "ARGUS_TEST_HOME"}) ASSERT_EQ(unsetenv(name), 0);
    TempDirTest::TearDown();
  }

  void SetEnvironment(const char* name, const char* value) { ASSERT_EQ(setenv(name, value, 1), 0); }

  // Parses `arguments` after a --config file holding `file` (none when empty).
  void Parse(std::vector<std::string> arguments, const std::string& file = "") {
    CLI::App app;
    app.set_config("--config");
    ReadConfigFilesBelowEnvironment(app);
    app.parse_complete_callback([&app] { RefuseRejectedEnvironment(app); });
    app.add_option("--home", home_)->envname("ARGUS_TEST_HOME");
    CLI::App* serve = app.add_subcommand("serve");
    serve->add_option("-p,--port", port_)->envname("ARGUS_TEST_PORT")->check(CLI::Range(1, 65535));
    if (!file.empty()) {
      const std::filesystem::path path = dir_ / "argus.toml";
      std::ofstream(path) << file;
      arguments.insert(arguments.begin(), "--config=" + path.string());
    }
    arguments.insert(arguments.begin() + (file.empty() ? 0 : 1), "serve");
    std::ranges::reverse(arguments);
    app.parse(arguments);
  }

  std::string home_ = "default";
  int port_ = 8080;
};

TEST_F(OptionSourcesTest, FlagsBeatTheEnvironmentWhichBeatsTheFile) {
  const std::string file = "home = \"from-file\"\n[serve]\nport = 1001\n";
  Parse({}, file);
  EXPECT_EQ(port_, 1001);
  EXPECT_EQ(home_, "from-file");

  SetEnvironment("ARGUS_TEST_PORT", "1002");
  SetEnvironment("ARGUS_TEST_HOME", "from-environment");
  Parse({}, file);
  EXPECT_EQ(port_, 1002) << "a subcommand's option";
  EXPECT_EQ(home_, "from-environment") << "a global option";

  Parse({"--port=1003"}, file);
  EXPECT_EQ(port_, 1003);
  Parse({"-p", "1004"}, file);
  EXPECT_EQ(port_, 1004);
}

TEST_F(OptionSourcesTest, AnEnvironmentValueTheOptionRefusesIsAnError) {
  SetEnvironment("ARGUS_TEST_PORT", "abc");
  try {
    Parse({});
    FAIL() << "ARGUS_TEST_PORT=abc was taken";
  } catch (const CLI::ValidationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ARGUS_TEST_PORT"));
    EXPECT_THAT(e.what(), HasSubstr("\"abc\" is not a valid --port"));
  }
  EXPECT_THROW(Parse({}, "[serve]\nport = 1001\n"), CLI::ValidationError)
      << "not silently replaced by the file's value";

  SetEnvironment("ARGUS_TEST_PORT", "0");
  EXPECT_THROW(Parse({}), CLI::ValidationError) << "out of range";

  Parse({"--port=1005"});
  EXPECT_EQ(port_, 1005) << "the flag overrides the variable, which then does not matter";
}

TEST_F(OptionSourcesTest, AKeyNoOptionHasIsAnErrorNamingIt) {
  try {
    Parse({}, "[serve]\nprot = 1001\n");
    FAIL() << "the misspelt key was taken";
  } catch (const CLI::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("serve.prot"));
  }
}

// In the real binary, the refusal names the file as well as the key.
TEST_F(OptionSourcesTest, TheBinaryNamesTheFileOfAKeyNoOptionHas) {
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serve]\nprot = 1001\n";
  const Outcome refused = RunArgus("--config=" + config.string() + " serve", "timeout 60");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("argus: " + config.string() +
                                     ": \"serve.prot\" is no option's key (a misspelt key, or a "
                                     "line that is not key = value)"));
  std::ofstream(config) << "[serve]\nport 1001\n";
  const Outcome garbled = RunArgus("--config=" + config.string() + " serve", "timeout 60");
  EXPECT_EQ(garbled.exit_code, 2);
  EXPECT_THAT(garbled.err, HasSubstr("\"serve.port 1001\" is no option's key"));
}

// CLI11 said "--port: At Most 1 required but received 2", also of a key twice in the file.
TEST_F(OptionSourcesTest, TheBinaryNamesAnOptionGivenTwiceAndWhere) {
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serve]\nport = 8089\nport = 8090\n";
  const std::string data = " --data-dir=" + (dir_ / "data").string();
  const std::pair<std::string, std::string> cases[] = {
      {"serve --port=8089 --port 8090" + data,
       "argus: --port was given 2 times (\"8089\", \"8090\"); it takes one value"},
      {"classify -k1 --top-k 2 " + dir_.string(), "argus: --top-k was given 2 times"},
      {"--config=" + config.string() + " serve" + data,
       "argus: --port is set in the config file 2 times (\"8089\", \"8090\")"},
      // CLI11 read the last file alone, silently.
      {"--config=" + config.string() + " --config " + config.string() + " serve" + data,
       "argus: --config was given 2 times; give one file"},
  };
  for (const auto& [arguments, message] : cases) {
    const Outcome refused = RunArgus(arguments, "timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << arguments;
    EXPECT_THAT(refused.err, HasSubstr(message)) << arguments;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "data"));
}

// The same order in the real binary: a maximum of 1 from the environment, over the file's 4,
// is below the minimum, so serve refuses to start instead of running.
TEST_F(OptionSourcesTest, TheBinaryReadsTheEnvironmentOverItsFile) {
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serve]\nmax-workers = 4\n";
  const std::string serve = "--config=" + config.string() +
                            " serve --host=127.0.0.1 --data-dir=" + (dir_ / "data").string() +
                            " --min-workers=3";
  // A binary that started serving would be stopped by `timeout`, exit 124 and fail the test.
  const Outcome refused = RunArgus(serve, "ARGUS_MAX_WORKERS=1 timeout 60");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--min-workers: 3 is more than --max-workers 1"));

  const Outcome bad_port =
      RunArgus("serve --data-dir=" + (dir_ / "data").string(), "ARGUS_PORT=abc timeout 60");
  EXPECT_EQ(bad_port.exit_code, 2);
  EXPECT_THAT(bad_port.err, HasSubstr("ARGUS_PORT: \"abc\" is not a valid --port"));

  // The option's own check says why, as it does for the flag.
  const Outcome bad_proxies = RunArgus("serve --data-dir=" + (dir_ / "data").string(),
                                       "ARGUS_TRUSTED_PROXIES=garbage timeout 60");
  EXPECT_EQ(bad_proxies.exit_code, 2);
  EXPECT_THAT(bad_proxies.err,
              HasSubstr("ARGUS_TRUSTED_PROXIES: \"garbage\" is not a valid --trusted-proxies: "
                        "\"garbage\" is not an IP address or network"));
}

// Values that once slipped through: an unreadable flag in the environment was reported under
// the flag's name, an empty data directory aborted with an exception, "nan" passed a range,
// and a data directory below a file left a warning about removing what was never made.
TEST_F(OptionSourcesTest, TheBinaryRefusesOddValuesNamingWhereTheyCameFrom) {
  const std::string serve = "serve --host=127.0.0.1 --port=1 ";
  const Outcome flag = RunArgus(serve + "--data-dir=" + (dir_ / "a").string(),
                                "ARGUS_ANONYMOUS_CLASSIFY=maybe timeout 60");
  EXPECT_EQ(flag.exit_code, 2);
  // Not "a valid --no-anonymous-classify": the variable has the opposite sense (false turns
  // anonymous POST / off), and that message had operators set it to true.
  EXPECT_THAT(flag.err, HasSubstr("ARGUS_ANONYMOUS_CLASSIFY: \"maybe\" is not true or false"));
  EXPECT_THAT(flag.err, Not(HasSubstr("valid --no-anonymous-classify")));
  const Outcome empty = RunArgus(serve + "--data-dir ''", "timeout 60");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("--data-dir: must not be empty"));
  const Outcome nan = RunArgus(
      serve + "--data-dir=" + (dir_ / "a").string() + " --scale-out-idle-cores=nan", "timeout 60");
  EXPECT_EQ(nan.exit_code, 2);
  EXPECT_THAT(nan.err, HasSubstr("\"nan\" is not a number from 0 to 1024"));
  std::ofstream(dir_ / "file") << "not a folder";
  const Outcome below_file =
      RunArgus("serve --data-dir=" + (dir_ / "file" / "data").string(), "timeout 60");
  EXPECT_EQ(below_file.exit_code, 2);
  EXPECT_THAT(below_file.err, HasSubstr("cannot create data directory"));
  EXPECT_THAT(below_file.err, Not(HasSubstr("cannot remove")));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "a"));
}

// `argus accounts bogus` said "A subcommand is required", where `argus bogus` names the word;
// --max-connections had CLI11's "Could not convert".
TEST_F(OptionSourcesTest, TheBinaryNamesAMistypedCommandOfACommandAndAnOddNumber) {
  const std::pair<std::string, std::string> cases[] = {
      {"accounts lsit", "argus accounts: unknown command \"lsit\" (commands: list, "},
      {"accounts --bogus", "argus accounts: unknown option \"--bogus\" (commands: "},
      {"accounts", "argus accounts: a command is needed (commands: list, "},
      {"serve --max-connections -5", "\"-5\" is not a whole number from 0 to 1048576"},
      {"serve --max-connections 1.5", "--max-connections: \"1.5\" is not a whole number"},
      // CLI11 said "Value 1.5 not in range [1 - 1000000]" and "Value  not in range".
      {"serve --jobs-per-worker 1.5", "--jobs-per-worker: \"1.5\" is not a whole number"},
      {"serve --min-workers ''", "--min-workers: \"\" is not a whole number"},
      // CLI11 filled an empty value after "=" with the next argument.
      {"serve --min-workers= --max-workers 3",
       "argus: --min-workers= gives no value after the \"=\": write --min-workers=VALUE"},
      {"serve --data-dir= --port 8080", "argus: --data-dir= gives no value"},
  };
  for (const auto& [arguments, message] : cases) {
    const Outcome refused = RunArgus(arguments, "timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << arguments;
    EXPECT_THAT(refused.err, HasSubstr(message)) << arguments;
  }
}

// CLI11 said "was not readable (missing?)" of a file that is there but cannot be read.
TEST_F(OptionSourcesTest, TheBinarySaysWhyAConfigFileCannotBeRead) {
  const Outcome missing = RunArgus("--config=" + (dir_ / "none.toml").string() + " serve");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("none.toml: No such file or directory"));
  const std::filesystem::path locked = dir_ / "locked.toml";
  std::ofstream(locked) << "[serve]\nport = 8089\n";
  std::filesystem::permissions(locked, std::filesystem::perms::none);
  std::filesystem::permissions(dir_, std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
  // Root reads any file: the command then runs as nobody.
  const Outcome unreadable =
      RunArgus("--config=" + locked.string() + " serve",
               geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups" : "");
  EXPECT_EQ(unreadable.exit_code, 2);
  EXPECT_THAT(unreadable.err, HasSubstr("locked.toml: Permission denied"));
}

TEST_F(OptionSourcesTest, TheBinaryNamesAMistypedSectionAndTheSectionsThereAre) {
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serv]\nport = 8089\n";
  const Outcome refused = RunArgus("--config=" + config.string() + " serve", "timeout 60");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("argus: " + config.string() +
                                     ": [serv] is no command's section ([serve], [web], "));
  EXPECT_THAT(refused.err, HasSubstr("[accounts.list], [accounts.reset-password]"));
}

TEST_F(OptionSourcesTest, TheBinaryNamesTheFileAndKeyOfAValueTheOptionRefuses) {
  const std::filesystem::path config = dir_ / "argus.toml";
  const std::string serve =
      "--config=" + config.string() + " serve --data-dir=" + (dir_ / "data").string();
  std::ofstream(config) << "[serve]\nport = \"abc\"\n";
  const Outcome port = RunArgus(serve, "timeout 60");
  EXPECT_EQ(port.exit_code, 2);
  EXPECT_THAT(port.err, HasSubstr("argus: " + config.string() +
                                  ": serve.port = \"abc\" is not a valid --port: \"abc\" is not "
                                  "a whole number"));

  std::ofstream(config) << "[serve]\nmax-bytes = \"ten\"\n";
  const Outcome size = RunArgus(serve, "timeout 60");
  EXPECT_EQ(size.exit_code, 2);
  EXPECT_THAT(size.err, HasSubstr(": serve.max-bytes = \"ten\" is not a valid --max-bytes: "));

  std::ofstream(config) << "[serve]\nno-anonymous-classify = \"maybe\"\n";
  const Outcome flag = RunArgus(serve, "timeout 60");
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err, HasSubstr(": serve.no-anonymous-classify = \"maybe\" is not a valid "
                                  "--no-anonymous-classify: true or false"));

  // The flag wins over the file, so the file's value is not read: the start is refused for
  // another reason, so that the test need not stop a server.
  std::ofstream(config) << "[serve]\nport = \"abc\"\n";
  const Outcome flag_wins =
      RunArgus(serve + " --port=8089 --min-workers=3 --max-workers=1", "timeout 60");
  EXPECT_EQ(flag_wins.exit_code, 2);
  EXPECT_THAT(flag_wins.err, HasSubstr("--min-workers: 3 is more than --max-workers 1"));
  EXPECT_THAT(flag_wins.err, Not(HasSubstr("abc")));
}

// The operator runs `argus accounts` with the service's own file.
TEST_F(OptionSourcesTest, AccountsUseTheCatalogOfTheServiceSectionsUnlessTheirOwnNamesOne) {
  const std::filesystem::path service_data = dir_ / "service-data";
  std::filesystem::create_directories(service_data);
  {
    auto catalog = catalog::OpenCatalog("sqlite://" + (service_data / "catalog.db").string());
    ASSERT_TRUE(catalog) << catalog.error().message;
    ASSERT_TRUE((*catalog)->CreateUser("alice@example.com", "not a real hash", 0));
  }
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serve]\nport = 8089\ndata-dir = \"" << service_data.string() << "\"\n";
  const std::string accounts = "--config=" + config.string() + " accounts ";
  const Outcome listed = RunArgus(accounts + "list", "timeout 60");
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("alice@example.com"));

  std::ofstream(config, std::ios::app)
      << "[accounts.list]\ndata-dir = \"" << (dir_ / "elsewhere").string() << "\"\n";
  const Outcome own = RunArgus(accounts + "list", "timeout 60");
  EXPECT_EQ(own.exit_code, 1) << own.out;
  EXPECT_THAT(own.err, HasSubstr("no catalog at " + (dir_ / "elsewhere").string()));

  const Outcome flag =
      RunArgus(accounts + "list --data-dir=" + service_data.string(), "timeout 60");
  EXPECT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_THAT(flag.out, HasSubstr("alice@example.com"));
}

}  // namespace
}  // namespace argus::cli
