#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace argus::cli {

struct GlobalOptions {
  std::string assets_dir;
};

// Registers `argus classify` on `app`.
void AddClassifyCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace argus::cli
