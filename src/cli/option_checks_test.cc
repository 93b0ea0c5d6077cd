#include "cli/option_checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cli/run_argus_test.h"
#include "common/temp_dir_test.h"
#include "common/unused_port_test.h"

namespace argus::cli {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  int port = 0;
  std::int64_t offset = 0;
  std::uint64_t bytes = 0;
  std::string name;
  std::string error;
};

// Parses `arguments` with a port, a signed number, a size with a unit and a text option, as
// argus declares them, each in a subcommand.
Parsed Parse(const std::vector<std::string>& arguments) {
  Parsed parsed;
  CLI::App app;
  CLI::App* serve = app.add_subcommand("serve");
  serve->add_option("--port", parsed.port)->check(CLI::Range(1, 65535));
  serve->add_option("--offset", parsed.offset);
  AcceptSizeWithUnit(*serve->add_option("--bytes", parsed.bytes));
  serve->add_option("--name", parsed.name);
  ReadWholeNumbersInDecimal(app);
  std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());
  reversed.emplace_back("serve");
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    parsed.error = e.what();
  }
  return parsed;
}

TEST(ReadWholeNumbersInDecimalTest, LeadingZerosAreDroppedNotReadAsOctal) {
  const Parsed parsed =
      Parse({"--port", "08080", "--offset", "-010", "--bytes", "0100000", "--name", "0x10"});
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.port, 8080);
  EXPECT_EQ(parsed.offset, -10);
  EXPECT_EQ(parsed.bytes, 100000u);
  EXPECT_EQ(parsed.name, "0x10") << "text is left as it is";
  EXPECT_EQ(Parse({"--port", "043346"}).port, 43346);
  EXPECT_EQ(Parse({"--port", "0000"}).error.empty(), false) << "0 is out of range, not empty";
  EXPECT_EQ(Parse({"--bytes", "02MiB"}).bytes, 2u << 20);
  EXPECT_EQ(Parse({"--offset", "0"}).offset, 0);
}

TEST(ReadWholeNumbersInDecimalTest, RadixPrefixesAreRefused) {
  for (const char* value : {"0x10", "0o20", "0b1", "0X10"}) {
    const Parsed parsed = Parse({"--port", value});
    EXPECT_THAT(parsed.error, HasSubstr(std::string("\"") + value + "\" is not a decimal number"))
        << value;
  }
}

// CLI11 told ".5", "1e0" or "1,5" "not in range [0 - 1024]", though most were within it.
TEST(ReadWholeNumbersInDecimalTest, AnythingButDigitsIsNotAWholeNumber) {
  for (const char* value : {".5", "1.", "1e0", "1,5", " ", "", "12abc"}) {
    const Parsed parsed = Parse({"--port", value});
    EXPECT_THAT(parsed.error, HasSubstr(std::string("\"") + value + "\" is not a whole number"))
        << value;
  }
  EXPECT_EQ(Parse({"--bytes", "2MiB"}).bytes, 2u << 20) << "sizes keep their units";
}

class DecimalOptionsTest : public TempDirTest {};

// From the environment and a config file too, in the real binary.
TEST_F(DecimalOptionsTest, ServeReadsAZeroPaddedPortInDecimalFromEverySource) {
  const int port = UnusedLoopbackPort();
  const std::string padded = "0" + std::to_string(port);
  const std::filesystem::path config = dir_ / "argus.toml";
  std::ofstream(config) << "[serve]\nport = " << padded << "\n";
  for (const auto& [arguments, environment] :
       {std::pair<std::string, std::string>{"--port=" + padded, ""},
        {"", "ARGUS_PORT=" + padded},
        {"--config=" + config.string(), ""}}) {
    const Outcome outcome =
        RunArgus("serve --host=127.0.0.1 --min-workers=0 --drain-timeout=0 --data-dir=" +
                     (dir_ / "data").string() + " " + arguments,
                 environment + " timeout -s TERM 3");
    EXPECT_THAT(outcome.err, HasSubstr("listening on http://127.0.0.1:" + std::to_string(port)))
        << arguments << environment << "\n"
        << outcome.err;
  }
  const Outcome hex = RunArgus("serve --port=0x10 --data-dir=" + (dir_ / "data").string());
  EXPECT_EQ(hex.exit_code, 2);
  EXPECT_THAT(hex.err, HasSubstr("\"0x10\" is not a decimal number"));
}

}  // namespace
}  // namespace argus::cli
