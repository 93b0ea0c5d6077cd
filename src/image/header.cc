#include "image/header.h"

#include <array>
#include <cstdint>
#include <format>
#include <string_view>
#include <utility>

#include "image/vips_init.h"
#include "image/vips_util.h"

namespace argus::image::internal {
namespace {

constexpr std::string_view kNotAnImage = "not a supported image (JPEG, PNG, WebP, GIF, HEIC, AVIF)";

// libvips can also open TIFF, SVG, PDF, JPEG 2000, JPEG XL and, through ImageMagick, dozens of
// rarer formats. Each is attack surface a photo service does not need, so only these loaders
// ever see untrusted bytes.
std::string_view FormatOfLoader(std::string_view loader) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kAccepted{{
      {"VipsForeignLoadJpeg", "jpeg"},
      {"VipsForeignLoadPng", "png"},
      {"VipsForeignLoadWebp", "webp"},
      {"VipsForeignLoadNsgif", "gif"},
      {"VipsForeignLoadHeif", "heif"},
  }};
  for (const auto& [prefix, format] : kAccepted) {
    if (loader.starts_with(prefix)) {
      return format;
    }
  }
  return {};
}

// One loader reads both HEIC and AVIF; the codec tells them apart.
bool IsAvif(VipsImage* image) {
  const char* compression = nullptr;
  return vips_image_get_typeof(image, "heif-compression") != 0 &&
         vips_image_get_string(image, "heif-compression", &compression) == 0 &&
         std::string_view(compression) == "av1";
}

}  // namespace

Result<Header> ReadHeader(std::span<const std::byte> bytes, const Limits& limits) {
  if (bytes.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "empty file");
  }
  if (bytes.size() > limits.max_bytes) {
    return Fail(ErrorCode::kTooLarge, std::format("file is {} bytes, over the limit of {} bytes",
                                                  bytes.size(), limits.max_bytes));
  }
  InitializeVips();

  const char* loader = vips_foreign_find_load_buffer(bytes.data(), bytes.size());
  if (loader == nullptr) {
    vips_error_clear();
  }
  std::string_view format = loader == nullptr ? std::string_view() : FormatOfLoader(loader);
  if (format.empty()) {
    return Fail(ErrorCode::kUnsupportedMedia, std::string(kNotAnImage));
  }

  // Without fail_on, libvips fills what a truncated file lacks with grey and reports success.
  // Not the stricter "warning": libjpeg warns about quirks common in camera files, and most
  // flipped bits in JPEG data go unnoticed by the decoder whatever the setting.
  VipsImagePtr image(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", "access",
                                                VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                                VIPS_FAIL_ON_ERROR, nullptr));
  if (image == nullptr) {
    return std::unexpected(VipsError(ErrorCode::kCorrupt, "cannot read the image header"));
  }

  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  const std::uint64_t pixels =
      std::uint64_t{static_cast<std::uint32_t>(width)} * static_cast<std::uint32_t>(height);
  if (pixels > limits.max_pixels) {
    return Fail(ErrorCode::kTooLarge,
                std::format("image is {} x {} pixels ({} pixels), over the limit of {} pixels",
                            width, height, pixels, limits.max_pixels));
  }

  return Header{
      .format = std::string(format == "heif" && IsAvif(image.get()) ? "avif" : format),
      .width = width,
      .height = height,
      .swaps_axes = vips_image_get_orientation_swap(image.get()) != 0,
      .image = std::move(image),
  };
}

}  // namespace argus::image::internal
