#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace argus::cli {

// An option's value comes from its flag, else its ARGUS_* environment variable, else the
// configuration file given by --config. CLI11 alone reads the file first and lets the
// environment fill only what is still unset, so the file would beat the environment; and it
// drops an environment value that fails the option's checks without a word.

// Reads --config files as TOML (or INI), leaving out every value whose option has its
// environment variable set, so that the environment wins over the file. A key that names no
// option is an error naming it (CLI11 alone reported only its value, "1 was not expected").
// Call before adding subcommands, which take the setting over.
void ReadConfigFilesBelowEnvironment(CLI::App& app);

// Throws CLI::ValidationError, naming the variable, for an environment variable of `app`'s or
// of a parsed subcommand's option that was set but refused by the option's checks, unless
// the option's flag was given. Meant for `app`'s parse-complete callback, which runs before
// any subcommand's.
void RefuseRejectedEnvironment(CLI::App& app);

// CLI11 reports a flag's environment value it cannot read as a value given to the flag
// ("Could not convert: --no-anonymous-classify = maybe"). After a failed parse, this is the
// error naming the variable instead, when a flag of `app` or of a subcommand has such a value.
std::optional<CLI::ValidationError> UnreadableFlagEnvironment(const CLI::App& app);

// After a failed parse, when a command whose own commands are required got none it knows
// (`argus accounts bogus`, which CLI11 reports as "A subcommand is required"): the message
// naming the word given and the commands there are. nullopt otherwise.
std::optional<std::string> UnknownSubcommand(const CLI::App& app, int argc, char** argv);

// After a failed parse, when an option that takes one value was given more (CLI11's "--port:
// At Most 1 required but received 2"), on the command line or in the config file: the message
// naming the option, where it was given, and its values.
// nullopt otherwise.
std::optional<std::string> RepeatedOption(const CLI::App& app, int argc, char** argv);

// Before parsing: the message for a `--name=` with nothing after the "=", which CLI11 takes
// as "no value here" and fills with the next argument (`--min-workers= --max-workers 3` read
// "--max-workers" as the minimum). nullopt when there is none before a "--".
std::optional<std::string> EmptyValueAfterEquals(int argc, char** argv);

// Before parsing: the message for --config given more than once, of which CLI11 read the last
// alone, silently. nullopt otherwise.
std::optional<std::string> RepeatedConfigFile(int argc, char** argv);

// CLI11's message about a config file in the file's terms: of a key no option has, or of a
// line that is no key = value, CLI11 says "INI was not able to parse KEY", of TOML files too.
std::string ConfigErrorMessage(std::string_view cli11_message);

}  // namespace argus::cli
