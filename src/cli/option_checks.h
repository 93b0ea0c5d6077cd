#pragma once

#include <CLI/CLI.hpp>

namespace argus::cli {

// A whole number of at least 1. CLI::PositiveNumber reads values as doubles and refuses with
// "not in range [2.22507e-308 - 1.79769e+308]".
const CLI::Validator& AtLeastOne();

// A size in bytes, with an optional unit: 52428800, 50MiB, 50MB (powers of 1024 either way,
// as CLI::AsSizeValue reads them), at least 1 byte.
void AcceptSizeWithUnit(CLI::Option& option);

// A number from `low` to `high`. CLI::Range lets "nan" through, since every comparison with it
// is false.
CLI::Validator Between(double low, double high);

// Text that is not empty, for paths: an empty one is no folder.
const CLI::Validator& NotEmpty();

}  // namespace argus::cli
