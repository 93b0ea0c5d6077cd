#pragma once

#include <CLI/CLI.hpp>

namespace argus::cli {

// `argus accounts list` and `argus accounts reset-password EMAIL`: the operator's view of the
// accounts in the service's catalog, and a way back in for a user who forgot the password.
void AddAccountsCommand(CLI::App& app, int& exit_code);

}  // namespace argus::cli
