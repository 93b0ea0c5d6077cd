#pragma once

// Internal to the image module: the checks every entry point runs before decoding pixels.

#include <cstddef>
#include <span>
#include <string>

#include "common/error.h"
#include "image/limits.h"
#include "image/vips_util.h"

namespace argus::image::internal {

struct Header {
  std::string format;  // "jpeg", "png", "webp", "gif", "heif" or "avif"
  int width;           // as stored, before EXIF orientation is applied
  int height;
  bool swaps_axes;  // the EXIF orientation turns the image by 90 or 270 degrees
  // Opened lazily for one sequential pass, failing on damaged data; no pixel is decoded yet.
  // It borrows the bytes, which must outlive it.
  VipsImagePtr image;
};

// Refuses empty input, input over the byte limit, anything that is not one of the accepted
// formats, and images whose declared size exceeds the pixel limit. Only the header is parsed.
Result<Header> ReadHeader(std::span<const std::byte> bytes, const Limits& limits);

}  // namespace argus::image::internal
