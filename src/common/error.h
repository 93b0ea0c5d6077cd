#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace argus {

// Expected failures travel as values; the code decides how a boundary reports them
// (HTTP status, CLI exit code), the message is for people.
enum class ErrorCode : std::uint8_t {
  kInvalidArgument,
  kNotFound,
  kUnsupportedMedia,
  kTooLarge,
  kCorrupt,
  kIo,
  kNoSpace,  // the disk or the quota is full: nothing can be stored until space is freed
  kUnavailable,
  kConflict,
  kInternal,
};

struct Error {
  ErrorCode code;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// Stable snake_case names used in JSON error bodies and logs.
std::string_view ErrorCodeName(ErrorCode code);

}  // namespace argus
