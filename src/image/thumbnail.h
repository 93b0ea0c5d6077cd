#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/error.h"
#include "image/limits.h"

namespace argus::image {

// Encodes an upright JPEG whose longer side is at most max_side, for galleries. Smaller images
// keep their size; transparency is flattened onto white; no metadata is kept, so camera EXIF
// (GPS position included) never reaches a gallery.
//
// Errors: those of Probe, kInvalidArgument when max_side < 1, kCorrupt as for Preprocess.
Result<std::vector<std::byte>> MakeThumbnail(std::span<const std::byte> bytes, int max_side,
                                             const Limits& limits);

}  // namespace argus::image
