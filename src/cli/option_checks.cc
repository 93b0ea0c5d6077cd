#include "cli/option_checks.h"

#include <algorithm>
#include <charconv>
#include <format>
#include <string>
#include <string_view>

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

CLI::Validator WholeNumberUpTo(unsigned long long high) {
  return CLI::Validator(
      [high](const std::string& text) -> std::string {
        unsigned long long value = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || value > high) {
          return std::format("\"{}\" is not a whole number from 0 to {}", text, high);
        }
        return {};
      },
      std::format("NUMBER in [0 - {}]", high));
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

namespace {

// Drops the zeros that lead a number's digits, keeping one digit, so that "0100000MiB" is
// 100000 MiB; refuses a radix prefix, a fraction ("1.5", which CLI11 called out of range) and
// nothing at all. Leaves anything else for the option's own checks.
const CLI::Validator& DecimalDigits() {
  static const CLI::Validator transform(
      [](std::string& text) -> std::string {
        const std::size_t sign = text.starts_with('-') || text.starts_with('+') ? 1 : 0;
        const std::size_t end = std::min(text.find_first_not_of("0123456789", sign), text.size());
        const bool fraction = end > sign && end + 1 < text.size() && text[end] == '.' &&
                              text.find_first_not_of("0123456789", end + 1) == std::string::npos;
        if (text.empty() || fraction) return std::format("\"{}\" is not a whole number", text);
        if (end == sign || text[sign] != '0') return {};
        if (end == sign + 1 && end < text.size() &&
            std::string_view("xXoObB").contains(text[end])) {
          return std::format("\"{}\" is not a decimal number", text);
        }
        text.erase(sign, std::min(text.find_first_not_of('0', sign), end - 1) - sign);
        return {};
      },
      "");
  return transform;
}

}  // namespace

// Refuses anything but digits with an optional sign, for whole numbers without a unit:
// ".5", "1e0" or "1,5" were told "not in range" by CLI11, though most were within it.
const CLI::Validator& DigitsOnly() {
  static const CLI::Validator check(
      [](const std::string& text) -> std::string {
        const std::size_t sign = text.starts_with('-') || text.starts_with('+') ? 1 : 0;
        if (text.size() > sign && text.find_first_not_of("0123456789", sign) == std::string::npos) {
          return {};
        }
        return std::format("\"{}\" is not a whole number", text);
      },
      "");
  return check;
}

void ReadWholeNumbersInDecimal(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    // CLI11 names an option's type by what it is read into; checks add ":..." after it.
    const std::string type = option->get_type_name();
    if (!type.starts_with("INT") && !type.starts_with("UINT")) continue;
    // CLI11 runs a transform before the option's checks, the last one added first: so the
    // range check sees digits only, after a radix prefix or a fraction has been named as such.
    // Sizes take a unit ("50MiB"), which their own check reads.
    if (!type.contains("SIZE")) option->transform(DigitsOnly());
    option->transform(DecimalDigits());
  }
  for (CLI::App* command : app.get_subcommands({})) ReadWholeNumbersInDecimal(*command);
}

}  // namespace argus::cli
