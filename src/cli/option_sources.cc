#include "cli/option_sources.h"

#include <algorithm>
#include <cstdlib>
#include <format>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"

namespace argus::cli {
namespace {

std::string EnvironmentValue(const CLI::Option& option) {
  const std::string name = option.get_envname();
  if (name.empty()) return {};
  const char* value = std::getenv(name.c_str());
  return value == nullptr ? std::string() : std::string(value);
}

// The option a configuration item sets, found the way CLI11 finds it; nullptr for section
// markers and names no option has.
CLI::Option* OptionOf(CLI::App& app, const CLI::ConfigItem& item) {
  CLI::App* command = &app;
  for (const std::string& parent : item.parents) {
    try {
      command = command->get_subcommand(parent);
    } catch (const CLI::OptionNotFound&) {
      return nullptr;
    }
  }
  CLI::Option* option = command->get_option_no_throw("--" + item.name);
  if (option == nullptr && item.name.size() == 1) {
    option = command->get_option_no_throw("-" + item.name);
  }
  if (option == nullptr) option = command->get_option_no_throw(item.name);
  return option;
}

// `argus accounts` works on the service's catalog: a file that names none for an accounts
// command lends it the catalog of [serve], else of [web], so that the service's own file
// serves the operator too.
void LendTheServiceCatalogToAccounts(const CLI::App& app, std::vector<CLI::ConfigItem>& items) {
  constexpr std::string_view kCatalogKeys[] = {"data-dir", "catalog"};
  const auto is_catalog_key = [&](const CLI::ConfigItem& item) {
    return std::ranges::find(kCatalogKeys, item.name) != std::end(kCatalogKeys);
  };
  std::vector<CLI::ConfigItem> lent;
  for (const char* service : {"serve", "web"}) {
    for (const CLI::ConfigItem& item : items) {
      if (item.parents == std::vector<std::string>{service} && is_catalog_key(item)) {
        lent.push_back(item);
      }
    }
    if (!lent.empty()) break;
  }
  if (lent.empty()) return;
  const CLI::App* accounts = nullptr;
  try {
    accounts = app.get_subcommand("accounts");
  } catch (const CLI::OptionNotFound&) {
    return;
  }
  // Only to the command given: the commands share one variable for each option, which every
  // section naming the option sets.
  for (const CLI::App* command : accounts->get_subcommands([](const CLI::App*) { return true; })) {
    if (command->count() == 0) continue;
    const std::vector<std::string> parents{"accounts", command->get_name()};
    if (std::ranges::any_of(items, [&](const CLI::ConfigItem& item) {
          return item.parents == parents && is_catalog_key(item);
        })) {
      continue;
    }
    for (CLI::ConfigItem item : lent) {
      item.parents = parents;
      items.push_back(std::move(item));
    }
  }
}

// The words CLI11 reads as a flag's value, and whole numbers (a count).
bool IsFlagValue(std::string_view text) {
  const std::string value = AsciiLowercase(text);
  static const std::set<std::string, std::less<>> kWords{
      "true", "false", "on", "off", "yes", "no", "enable", "disable", "t", "f", "y", "n", "+", "-"};
  if (kWords.contains(value)) return true;
  const std::string_view digits =
      std::string_view(value).substr(!value.empty() && (value[0] == '-' || value[0] == '+'));
  return !digits.empty() &&
         std::ranges::all_of(digits, [](char c) { return c >= '0' && c <= '9'; });
}

// What the first of the option's checks that refuses `value` says, as a flag's refusal says
// it; none when every check takes it.
std::optional<std::string> CheckRefusal(CLI::Option& option, std::string value) {
  for (int index = 0;; ++index) {
    CLI::Validator* validator = nullptr;
    try {
      validator = option.get_validator(index);
    } catch (const CLI::OptionNotFound&) {
      return std::nullopt;
    }
    // Some of CLI11's transforms (AsSizeValue) throw instead of saying why.
    try {
      if (std::string reason = (*validator)(value); !reason.empty()) return reason;
    } catch (const CLI::ValidationError& error) {
      return error.what();
    }
  }
}

// Why the option refuses `value`: a check's reason, else its type (a value that does not
// convert).
std::string WhyRefused(CLI::Option& option, const std::string& value) {
  return CheckRefusal(option, value).value_or(option.get_type_name());
}

class ConfigBelowEnvironment : public CLI::ConfigTOML {
 public:
  explicit ConfigBelowEnvironment(CLI::App& app) : app_(app) {}

  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
    for (const CLI::ConfigItem& item : items) RefuseUnknownSection(item);
    LendTheServiceCatalogToAccounts(app_, items);
    std::erase_if(items, [this](const CLI::ConfigItem& item) {
      const CLI::Option* option = OptionOf(app_, item);
      return option != nullptr && !EnvironmentValue(*option).empty();
    });
    for (const CLI::ConfigItem& item : items) RefuseRejectedValue(item);
    return items;
  }

 private:
  // CLI11 named a mistyped section by its first key and an inner marker ("serv.++").
  void RefuseUnknownSection(const CLI::ConfigItem& item) const {
    const CLI::App* command = &app_;
    std::string section;
    for (const std::string& parent : item.parents) {
      section += (section.empty() ? "" : ".") + parent;
      try {
        command = command->get_subcommand(parent);
      } catch (const CLI::OptionNotFound&) {
        throw CLI::ConfigError(
            std::format("[{}] is no command's section ({})", section, SectionsOf(app_)));
      }
    }
  }

  // "[serve], [web], ..., [accounts.list], ...": every command's section.
  static std::string SectionsOf(const CLI::App& app, const std::string& prefix = "") {
    std::string sections;
    for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
      const std::string name = prefix + command->get_name();
      const bool has_commands =
          !command->get_subcommands([](const CLI::App*) { return true; }).empty();
      const std::string these = has_commands ? SectionsOf(*command, name + ".") : "[" + name + "]";
      sections += (sections.empty() ? "" : ", ") + these;
    }
    return sections;
  }

  // CLI11 would name only the option's flag, as if the value had been given there. Values of
  // options whose flag was given are left out: the flag wins.
  void RefuseRejectedValue(const CLI::ConfigItem& item) const {
    CLI::Option* option = OptionOf(app_, item);
    if (option == nullptr || option->count() > 0) return;
    const bool flag = option->get_items_expected_max() == 0;
    for (const std::string& value : item.inputs) {
      auto refusal =
          flag ? (IsFlagValue(value) ? std::nullopt : std::optional<std::string>("true or false"))
               : CheckRefusal(*option, value);
      if (refusal) {
        std::string key;
        for (const std::string& parent : item.parents) key += parent + ".";
        throw CLI::ConfigError(std::format("{}{} = \"{}\" is not a valid {}: {}", key, item.name,
                                           value, option->get_name(), *refusal));
      }
    }
  }

  CLI::App& app_;
};

}  // namespace

void ReadConfigFilesBelowEnvironment(CLI::App& app) {
  app.config_formatter(std::make_shared<ConfigBelowEnvironment>(app));
  app.allow_config_extras(CLI::config_extras_mode::error);
}

void RefuseRejectedEnvironment(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string value = EnvironmentValue(*option);
    if (value.empty() || option->count() > 0) continue;
    throw CLI::ValidationError(option->get_envname(),
                               std::format("\"{}\" is not a valid {}: {}", value,
                                           option->get_name(), WhyRefused(*option, value)));
  }
  for (CLI::App* subcommand : app.get_subcommands()) RefuseRejectedEnvironment(*subcommand);
}

std::optional<CLI::ValidationError> UnreadableFlagEnvironment(const CLI::App& app) {
  for (const CLI::Option* option : app.get_options()) {
    const std::string value = EnvironmentValue(*option);
    if (value.empty() || option->get_items_expected_min() != 0) continue;
    if (!IsFlagValue(value)) {
      return CLI::ValidationError(option->get_envname(),
                                  std::format("\"{}\" is not true or false", value));
    }
  }
  // The parse stopped before it had recorded the subcommand it was in.
  for (const CLI::App* subcommand : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (auto unreadable = UnreadableFlagEnvironment(*subcommand)) return unreadable;
  }
  return std::nullopt;
}

std::optional<std::string> UnknownSubcommand(const CLI::App& app, int argc, char** argv) {
  const auto chosen = app.get_subcommands();
  if (chosen.size() != 1) return std::nullopt;
  const CLI::App& command = *chosen.front();
  const auto known = command.get_subcommands([](const CLI::App*) { return true; });
  if (known.empty() || !command.get_subcommands().empty()) return std::nullopt;
  std::string names;
  for (const CLI::App* sub : known) names += (names.empty() ? "" : ", ") + sub->get_name();
  const std::string where = std::format("argus {}: ", command.get_name());
  const std::string which =
      std::format("(commands: {}; see argus {} --help)", names, command.get_name());
  const auto* given = std::ranges::find(argv + 1, argv + argc, command.get_name());
  if (given != argv + argc && given + 1 != argv + argc) {
    const std::string_view word = *(given + 1);
    return std::format("{}unknown {} \"{}\" {}", where,
                       word.starts_with('-') ? "option" : "command", word, which);
  }
  return where + "a command is needed " + which;
}

std::string ConfigErrorMessage(std::string_view cli11_message) {
  constexpr std::string_view kUnparsed = "INI was not able to parse ";
  if (!cli11_message.starts_with(kUnparsed)) return std::string(cli11_message);
  return std::format(
      "\"{}\" is no option's key (a misspelt key, or a line that is not key = value)",
      cli11_message.substr(kUnparsed.size()));
}

std::optional<std::string> EmptyValueAfterEquals(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") return std::nullopt;
    if (argument.starts_with("--") && argument.size() > 3 && argument.ends_with('=') &&
        argument.find('=') == argument.size() - 1) {
      const std::string_view name = argument.substr(0, argument.size() - 1);
      return std::format(
          "argus: {} gives no value after the \"=\": write {}=VALUE, or {} '' for "
          "an empty one",
          argument, name, name);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RepeatedConfigFile(int argc, char** argv) {
  int given = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") break;
    if (argument == "--config" || argument.starts_with("--config=")) ++given;
  }
  if (given < 2) return std::nullopt;
  return std::format(
      "argus: --config was given {} times; give one file (files are not merged: only the last "
      "would be read)",
      given);
}

std::optional<std::string> RepeatedOption(const CLI::App& app, int argc, char** argv) {
  std::vector<const CLI::App*> commands{&app};
  for (std::size_t i = 0; i < commands.size(); ++i) {
    for (const CLI::App* sub : commands[i]->get_subcommands()) commands.push_back(sub);
  }
  for (const CLI::App* command : commands) {
    for (const CLI::Option* option : command->get_options()) {
      if (option->get_items_expected_max() != 1 || option->count() < 2) continue;
      std::string values;
      for (const std::string& value : option->results()) {
        values += std::format("{}\"{}\"", values.empty() ? "" : ", ", value);
      }
      // "--port", "--port=1", "-k", "-k1".
      const bool on_command_line = std::ranges::any_of(argv + 1, argv + argc, [&](const char* arg) {
        const std::string_view given = arg;
        if (given.starts_with("--"))
          return option->check_name(std::string(given.substr(0, given.find('='))));
        return given.size() >= 2 && given[0] == '-' &&
               option->check_name(std::string(given.substr(0, 2)));
      });
      const std::string name = option->get_name();
      return std::format("argus: {} {} {} times ({}); it takes one value", name,
                         on_command_line ? "was given" : "is set in the config file",
                         option->count(), values);
    }
  }
  return std::nullopt;
}

}  // namespace argus::cli
