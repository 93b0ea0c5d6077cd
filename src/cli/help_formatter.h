#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace argus::cli {

// CLI11 writes the value a negating flag stores into the flag's name in the help
// ("--no-anonymous-classify{false}"), where it reads as part of what to type. This help gives
// each option as it is typed.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override;
};

}  // namespace argus::cli
