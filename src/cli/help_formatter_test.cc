#include "cli/help_formatter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HelpFormatterTest, GivesANegatingFlagAsItIsTyped) {
  CLI::App app;
  app.formatter(std::make_shared<HelpFormatter>());
  bool allowed = true;
  bool verbose = false;
  app.add_flag("!--no-anonymous-classify", allowed, "Disable it");
  app.add_flag("-v,--verbose", verbose, "Say more");
  CLI::App* command = app.add_subcommand("serve");
  bool presigned = false;
  command->add_flag("!--no-presigned", presigned, "Do not presign");

  const std::string help = app.help();
  EXPECT_THAT(help, HasSubstr("--no-anonymous-classify "));
  EXPECT_THAT(help, HasSubstr("-v,--verbose"));
  EXPECT_THAT(help, Not(HasSubstr("{")));
  EXPECT_THAT(command->help(), HasSubstr("--no-presigned ")) << "subcommands inherit it";
  EXPECT_THAT(command->help(), Not(HasSubstr("{false}")));
}

}  // namespace
}  // namespace argus::cli
