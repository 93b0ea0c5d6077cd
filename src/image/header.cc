#include "image/header.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <format>
#include <span>
#include <string_view>
#include <utility>

#include "image/completeness.h"
#include "image/vips_init.h"
#include "image/vips_util.h"

namespace argus::image::internal {
namespace {

constexpr std::string_view kNotAnImage = "not a supported image (JPEG, PNG, WebP, GIF, HEIC, AVIF)";

// libvips can also open TIFF, SVG, PDF, JPEG 2000, JPEG XL and, through ImageMagick, dozens of
// rarer formats. Each is attack surface a photo service does not need, so only these loaders
// ever see untrusted bytes, sniffers included. Asking them directly also costs less than half
// of vips_foreign_find_load_buffer followed by vips_image_new_from_buffer, which sniff with
// every loader libvips has, twice.
using LoadBuffer = int (*)(void* buffer, std::size_t length, VipsImage** out, ...);

struct AcceptedLoader {
  const char* operation;
  LoadBuffer load;
  std::string_view format;
};

constexpr std::array<AcceptedLoader, 5> kAcceptedLoaders{{
    {"jpegload_buffer", vips_jpegload_buffer, "jpeg"},
    {"pngload_buffer", vips_pngload_buffer, "png"},
    {"webpload_buffer", vips_webpload_buffer, "webp"},
    {"gifload_buffer", vips_gifload_buffer, "gif"},
    {"heifload_buffer", vips_heifload_buffer, "heif"},
}};

const AcceptedLoader* FindLoader(std::span<const std::byte> bytes) {
  for (const AcceptedLoader& loader : kAcceptedLoaders) {
    if (vips_foreign_is_a_buffer(loader.operation, bytes.data(), bytes.size()) != 0) {
      return &loader;
    }
  }
  return nullptr;
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
  const AcceptedLoader* loader = FindLoader(bytes);
  if (loader == nullptr) {
    return Fail(ErrorCode::kUnsupportedMedia, std::string(kNotAnImage));
  }

  // Without fail_on, libvips fills what a truncated file lacks with grey and reports success.
  // Not the stricter "warning": libjpeg warns about quirks common in camera files, and most
  // flipped bits in JPEG data go unnoticed by the decoder whatever the setting. libvips never
  // writes through the pointer; its signature predates const-correctness.
  VipsImage* opened = nullptr;
  if (loader->load(const_cast<std::byte*>(bytes.data()), bytes.size(), &opened, "access",
                   VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR, nullptr) != 0) {
    Error unreadable = VipsError(ErrorCode::kCorrupt, "cannot read the image header");
    // A HEIF or AVIF file cut short already fails here, where libheif reads where its items
    // lie; its account of that (bad seeks, an iloc box pointing past the end) says nothing to
    // a user.
    if (auto complete = CheckComplete(bytes, loader->format); !complete) {
      return std::unexpected(std::move(complete.error()));
    }
    return std::unexpected(std::move(unreadable));
  }
  VipsImagePtr image(opened);

  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  const std::uint64_t pixels =
      std::uint64_t{static_cast<std::uint32_t>(width)} * static_cast<std::uint32_t>(height);
  if (pixels > limits.max_pixels) {
    return Fail(ErrorCode::kTooLarge,
                std::format("image is {} x {} pixels ({} pixels), over the limit of {} pixels",
                            width, height, pixels, limits.max_pixels));
  }
  // Preprocessing scales the short side to the model's (a few hundred pixels), and libvips
  // refuses an image whose long side would then pass its largest coordinate: stored, such an
  // image could only fail. No model's short side is over 1,024 pixels.
  constexpr double kLargestShortSide = 1024;
  if (static_cast<double>(std::max(width, height)) / std::max(1, std::min(width, height)) *
          kLargestShortSide >
      vips_max_coord_get()) {
    return Fail(ErrorCode::kTooLarge,
                std::format("a {} x {} image is too elongated to classify", width, height));
  }

  const bool avif = loader->format == "heif" && IsAvif(image.get());
  return Header{
      .format = std::string(avif ? "avif" : loader->format),
      .width = width,
      .height = height,
      .swaps_axes = vips_image_get_orientation_swap(image.get()) != 0,
      .image = std::move(image),
  };
}

}  // namespace argus::image::internal
