#include "image/thumbnail.h"

#include <cstring>
#include <utility>

#include "image/header.h"
#include "image/srgb8.h"
#include "image/vips_util.h"

namespace argus::image {

namespace {

// Gallery thumbnails are viewed small and fetched often: size matters more than fidelity.
constexpr int kJpegQuality = 80;

Result<std::vector<std::byte>> Encode(std::span<const std::byte> bytes, int max_side) {
  VipsImage* out = nullptr;
  // libvips never writes through the pointer; its signature predates const-correctness.
  // fail_on goes to the loader as an option string: given as thumbnail's own argument, libvips
  // 8.16 still returned a truncated JPEG as a grey-filled image.
  if (vips_thumbnail_buffer(const_cast<std::byte*>(bytes.data()), bytes.size(), &out, max_side,
                            "height", max_side, "size", VIPS_SIZE_DOWN, "option_string",
                            "fail_on=error", nullptr) != 0) {
    return std::unexpected(internal::VipsError(ErrorCode::kCorrupt, "cannot decode the image"));
  }
  auto rgb = internal::ToSrgb8(internal::VipsImagePtr(out));
  if (!rgb) {
    return std::unexpected(std::move(rgb.error()));
  }

  void* encoded = nullptr;
  std::size_t length = 0;
  // Decoding happens here, so this is also where damaged pixel data is found.
  if (vips_jpegsave_buffer(rgb->get(), &encoded, &length, "Q", kJpegQuality, "keep",
                           VIPS_FOREIGN_KEEP_NONE, nullptr) != 0) {
    return std::unexpected(
        internal::VipsError(ErrorCode::kCorrupt, "corrupt or truncated image data"));
  }
  std::vector<std::byte> jpeg(length);
  std::memcpy(jpeg.data(), encoded, length);
  g_free(encoded);
  return jpeg;
}

}  // namespace

Result<std::vector<std::byte>> MakeThumbnail(std::span<const std::byte> bytes, int max_side,
                                             const Limits& limits) {
  if (max_side < 1) {
    return Fail(ErrorCode::kInvalidArgument, "thumbnail size must be positive");
  }
  return internal::RunWithOwnErrors([&]() -> Result<std::vector<std::byte>> {
    auto header = internal::ReadHeader(bytes, limits);
    if (!header) {
      return std::unexpected(std::move(header.error()));
    }
    return Encode(bytes, max_side);
  });
}

}  // namespace argus::image
