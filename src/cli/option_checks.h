#pragma once

#include <CLI/CLI.hpp>

namespace argus::cli {

// A whole number of at least 1. CLI::PositiveNumber reads values as doubles and refuses with
// "not in range [2.22507e-308 - 1.79769e+308]".
const CLI::Validator& AtLeastOne();

// A size in bytes, with an optional unit: 52428800, 50MiB, 50MB (powers of 1024 either way,
// as CLI::AsSizeValue reads them), at least 1 byte.
void AcceptSizeWithUnit(CLI::Option& option);

}  // namespace argus::cli
