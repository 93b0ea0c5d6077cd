#pragma once

#include <cstddef>
#include <string_view>

#include "common/error.h"

namespace argus::blob {

// The longest key (S3's limit) and the longest segment: a segment becomes a file name in
// the local store (at most 255 bytes, with room for its temporary-file affixes). Both
// back ends enforce the same limits, so a key valid on one is valid on the other.
inline constexpr std::size_t kMaxKeyBytes = 1024;
inline constexpr std::size_t kMaxKeySegmentBytes = 200;

// kInvalidArgument unless `key` is one or more segments of [A-Za-z0-9._-] separated by
// single '/', none of them "." or "..".
Result<void> ValidateKey(std::string_view key);

// kInvalidArgument unless `folder` is "" (every key) or a valid key followed by '/'.
Result<void> ValidateFolder(std::string_view folder);

}  // namespace argus::blob
