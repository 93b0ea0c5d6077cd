#include "image/srgb8.h"

#include <array>
#include <utility>

namespace argus::image::internal {
namespace {

Error Unconvertible() {
  return VipsError(ErrorCode::kUnsupportedMedia, "cannot convert the image to sRGB");
}

}  // namespace

Result<VipsImagePtr> ToSrgb8(VipsImagePtr image) {
  VipsImage* out = nullptr;
  if (vips_image_guess_interpretation(image.get()) != VIPS_INTERPRETATION_sRGB) {
    if (vips_colourspace(image.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr) != 0) {
      return std::unexpected(Unconvertible());
    }
    image.reset(out);
  }
  if (vips_image_hasalpha(image.get())) {
    std::array<double, 3> white{255.0, 255.0, 255.0};
    VipsArrayDouble* background = vips_array_double_new(white.data(), white.size());
    const int failed = vips_flatten(image.get(), &out, "background", background, nullptr);
    vips_area_unref(VIPS_AREA(background));
    if (failed != 0) {
      return std::unexpected(Unconvertible());
    }
    image.reset(out);
  }
  // Extra bands that are not alpha (rare, e.g. a second alpha channel) carry no colour.
  if (vips_image_get_bands(image.get()) > 3) {
    if (vips_extract_band(image.get(), &out, 0, "n", 3, nullptr) != 0) {
      return std::unexpected(Unconvertible());
    }
    image.reset(out);
  }
  if (vips_image_get_format(image.get()) != VIPS_FORMAT_UCHAR) {
    if (vips_cast_uchar(image.get(), &out, nullptr) != 0) {
      return std::unexpected(Unconvertible());
    }
    image.reset(out);
  }
  // Readers step through pixels three bytes at a time; anything else must not reach them.
  if (vips_image_get_bands(image.get()) != 3) {
    return Fail(ErrorCode::kUnsupportedMedia, "cannot convert the image to sRGB");
  }
  return image;
}

}  // namespace argus::image::internal
