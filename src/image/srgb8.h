#pragma once

// Internal to the image module: the one pixel layout the rest of the module reads.

#include "common/error.h"
#include "image/vips_util.h"

namespace argus::image::internal {

// Converts any decoded image to 3-band 8-bit sRGB: grey is replicated, CMYK and 16-bit images
// are converted, and transparency is flattened onto white (how a viewer shows it on a page).
// Builds a lazy pipeline; nothing is computed until pixels are fetched.
Result<VipsImagePtr> ToSrgb8(VipsImagePtr image);

}  // namespace argus::image::internal
