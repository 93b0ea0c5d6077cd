#include "cli/option_checks.h"

#include <charconv>
#include <format>
#include <string>

namespace argus::cli {

const CLI::Validator& AtLeastOne() {
  static const CLI::Validator check(
      [](const std::string& text) -> std::string {
        unsigned long long value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || value < 1) {
          return "\"" + text + "\" is not a whole number of at least 1";
        }
        return {};
      },
      "NUMBER>=1");
  return check;
}

void AcceptSizeWithUnit(CLI::Option& option) {
  option.transform(CLI::AsSizeValue(false))->check(AtLeastOne());
}

CLI::Validator Between(double low, double high) {
  return CLI::Validator(
      [low, high](const std::string& text) -> std::string {
        double value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || !(value >= low) ||
            !(value <= high)) {
          return std::format("\"{}\" is not a number from {} to {}", text, low, high);
        }
        return {};
      },
      std::format("NUMBER in [{} - {}]", low, high));
}

const CLI::Validator& NotEmpty() {
  static const CLI::Validator check(
      [](const std::string& text) -> std::string {
        return text.empty() ? "must not be empty" : std::string();
      },
      "");
  return check;
}

}  // namespace argus::cli
