#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "common/error.h"
#include "image/limits.h"

namespace argus::image {

struct ImageInfo {
  std::string format;  // "jpeg", "png", "webp", "gif", "heif" (HEIC) or "avif"
  int width;           // as displayed, i.e. after EXIF orientation is applied
  int height;
};

// Identifies an image from its header alone, applying the same refusals as Preprocess:
// kInvalidArgument for empty input, kUnsupportedMedia for anything but the accepted formats,
// kTooLarge over either limit, kCorrupt for an unreadable header. Damage in the pixel data
// is not detected here.
Result<ImageInfo> Probe(std::span<const std::byte> bytes, const Limits& limits);

}  // namespace argus::image
