#include "cli/help_formatter.h"

namespace argus::cli {

std::string HelpFormatter::make_option_name(const CLI::Option* option, bool is_positional) const {
  std::string name = CLI::Formatter::make_option_name(option, is_positional);
  for (std::size_t open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
    const std::size_t close = name.find('}', open);
    if (close == std::string::npos) break;
    name.erase(open, close + 1 - open);
  }
  return name;
}

}  // namespace argus::cli
