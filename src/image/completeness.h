#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "common/error.h"

namespace argus::image {

// A cheap check, without decoding, that a file of a probed `format` is not cut short: a
// JPEG has its end-of-image marker after the last start-of-scan, a PNG its IEND chunk, a
// GIF its trailer, a WebP as many bytes as its RIFF header declares, a HEIF or AVIF file the
// bytes its boxes declare. Lets the web tier refuse truncated uploads at once (kCorrupt)
// instead of queueing them, and Preprocess refuse what some decoders would fill with grey.
// The refusal names the format; a "heif" file, whose codec may be unknown yet, by its brands
// (AVIF or HEIC).
Result<void> CheckComplete(std::span<const std::byte> bytes, std::string_view format);

}  // namespace argus::image
