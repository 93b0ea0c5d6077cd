#pragma once

#include <CLI/CLI.hpp>

#include "cli/classify_command.h"

namespace argus::cli {

// `argus serve` (everything on one machine), `argus web` (the web tier alone),
// `argus worker` and `argus scaler`.
void AddServeCommands(CLI::App& app, const GlobalOptions& global, int& exit_code);
void AddWorkerCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);
void AddScalerCommand(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace argus::cli
