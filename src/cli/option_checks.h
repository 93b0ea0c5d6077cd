#pragma once

#include <CLI/CLI.hpp>

namespace argus::cli {

// A whole number of at least 1. CLI::PositiveNumber reads values as doubles and refuses with
// "not in range [2.22507e-308 - 1.79769e+308]".
const CLI::Validator& AtLeastOne();

// A size in bytes, with an optional unit: 52428800, 50MiB, 50MB (powers of 1024 either way,
// as CLI::AsSizeValue reads them), at least 1 byte.
void AcceptSizeWithUnit(CLI::Option& option);

// A whole number from 0 to `high`, written in digits alone ("1.5" and "-0" are refused by
// name, where CLI11 said "Could not convert").
CLI::Validator WholeNumberUpTo(unsigned long long high);

// A number from `low` to `high`. CLI::Range lets "nan" through, since every comparison with it
// is false.
CLI::Validator Between(double low, double high);

// Text that is not empty, for paths: an empty one is no folder.
const CLI::Validator& NotEmpty();

// Has every whole-number option of `app` and its subcommands, however given (flag,
// environment, config file), read in decimal. CLI11 reads "010" as 8 and "0x10" as 16, so a
// zero-padded port or size silently became another; leading zeros are now dropped and a
// 0x, 0o or 0b prefix refused. Call once every option is declared.
void ReadWholeNumbersInDecimal(CLI::App& app);

}  // namespace argus::cli
