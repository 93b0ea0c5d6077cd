#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cli/accounts_command.h"
#include "cli/classify_command.h"
#include "cli/help_formatter.h"
#include "cli/option_checks.h"
#include "cli/option_sources.h"
#include "cli/service_commands.h"

// CLI11's errors other than ParseError (ConstructionError, OptionNotFound) mean the options
// are declared wrongly: a bug, which std::terminate reports by naming the exception.
// NOLINTNEXTLINE(bugprone-exception-escape): only CLI11's errors for such bugs escape
int main(int argc, char** argv) {
  CLI::App app{
      "Argus: elastic image recognition. Classifies photos with an ImageNet CNN (ONNX Runtime),\n"
      "offline from the command line or as a service."};
  // Before the commands are added, which take it over.
  app.formatter(std::make_shared<argus::cli::HelpFormatter>());
  app.require_subcommand(1);
  // Global options (--assets-dir, --config) are accepted after the command's name as well.
  app.fallthrough();
  app.set_config("--config", "",
                 "Read options from a TOML or INI file ([serve], [worker], ... sections); flags "
                 "override environment variables, which override the file");
  argus::cli::ReadConfigFilesBelowEnvironment(app);
  app.parse_complete_callback([&app] { argus::cli::RefuseRejectedEnvironment(app); });
  app.set_version_flag("--version", "argus " ARGUS_VERSION);
  argus::cli::GlobalOptions global;
  app.add_option(
         "--assets-dir", global.assets_dir,
         "Folder with models/, labels/ and breeds/ (default: ../shared/assets when present)")
      ->envname("ARGUS_ASSETS_DIR");

  int exit_code = 0;
  argus::cli::AddServeCommands(app, global, exit_code);
  argus::cli::AddWorkerCommand(app, global, exit_code);
  argus::cli::AddScalerCommand(app, global, exit_code);
  argus::cli::AddClassifyCommand(app, global, exit_code);
  argus::cli::AddAccountsCommand(app, exit_code);
  argus::cli::ReadWholeNumbersInDecimal(app);
  for (const auto& refused : {argus::cli::EmptyValueAfterEquals(argc, argv),
                              argus::cli::RepeatedConfigFile(argc, argv)}) {
    if (refused) {
      std::cerr << *refused << "\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped command as a missing one.
    if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
      std::cerr
          << "argus: unknown command \"" << argv[1]
          << "\" (commands: serve, web, worker, scaler, classify, accounts; see argus --help)\n";
      return 2;
    }
    if (auto unknown = argus::cli::UnknownSubcommand(app, argc, argv)) {
      std::cerr << *unknown << "\n";
      return 2;
    }
    if (auto repeated = argus::cli::RepeatedOption(app, argc, argv)) {
      std::cerr << *repeated << "\n";
      return 2;
    }
    // CLI11 says "was not readable (missing?)" of a file that is there but cannot be read.
    if (dynamic_cast<const CLI::FileError*>(&e) != nullptr && app.get_config_ptr()->count() > 0) {
      const std::string file = app.get_config_ptr()->as<std::string>();
      if (std::FILE* opened = std::fopen(file.c_str(), "r"); opened != nullptr) {
        std::fclose(opened);
      } else {
        std::cerr << "argus: --config " << file << ": " << std::strerror(errno) << "\n";
        return 2;
      }
    }
    // CLI11 names the key it could not place, not the file it is in.
    if (dynamic_cast<const CLI::ConfigError*>(&e) != nullptr) {
      std::cerr << "argus: " << app.get_config_ptr()->as<std::string>() << ": "
                << argus::cli::ConfigErrorMessage(e.what()) << "\n";
      return 2;
    }
    if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) {
      if (auto unreadable = argus::cli::UnreadableFlagEnvironment(app)) {
        app.exit(*unreadable);
        return 2;
      }
    }
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;
  }
  return exit_code;
}
