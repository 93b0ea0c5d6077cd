#include "image/preprocess.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <format>
#include <utility>

#include "image/completeness.h"
#include "image/header.h"
#include "image/srgb8.h"
#include "image/vips_util.h"

namespace argus::image {
namespace {

using internal::VipsError;
using internal::VipsImagePtr;
using internal::VipsRegionPtr;

Result<void> CheckGeometry(const Preprocessing& p) {
  if (p.resize_short_side < 1 || p.crop_width < 1 || p.crop_height < 1 ||
      p.crop_width > p.resize_short_side || p.crop_height > p.resize_short_side) {
    return Fail(ErrorCode::kInvalidArgument,
                std::format("a {} x {} crop does not fit an image resized to a short side of {}",
                            p.crop_width, p.crop_height, p.resize_short_side));
  }
  return {};
}

// JPEG decoders can shrink by 2, 4 or 8 while decoding, skipping most of the inverse DCT work.
// The largest shrink that keeps the short side at or above the target is used, so the resize
// only ever reduces: decoding below the target and upscaling back costs accuracy (a quarter-size
// decode of 0.2 MP photos lost 24 points of top-1).
int JpegShrink(const internal::Header& header, int short_side) {
  const int short_in = std::min(header.width, header.height);
  for (int shrink : {8, 4, 2}) {
    if (short_in / shrink >= short_side) {
      return shrink;
    }
  }
  return 1;
}

Result<VipsImagePtr> Decode(std::span<const std::byte> bytes, internal::Header& header,
                            int short_side) {
  const int shrink = header.format == "jpeg" ? JpegShrink(header, short_side) : 1;
  if (shrink == 1) {
    return std::move(header.image);
  }
  // The shrink is a load option, so the bytes are opened again. libvips never writes through
  // the pointer; its signature predates const-correctness.
  VipsImage* out = nullptr;
  if (vips_jpegload_buffer(const_cast<std::byte*>(bytes.data()), bytes.size(), &out, "shrink",
                           shrink, "access", VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_ERROR,
                           nullptr) != 0) {
    return std::unexpected(VipsError(ErrorCode::kCorrupt, "cannot decode the image"));
  }
  return VipsImagePtr(out);
}

// Resizes so the short side is exactly `short_side`, in stored orientation: rotating is left
// for after the crop, since libvips rotates by copying the whole image to memory.
//
// The kernel is the triangle filter widened by the shrink factor, i.e. the antialiased bilinear
// resize of PIL and torchvision that ImageNet models are trained with.
Result<VipsImagePtr> ResizeShortSide(VipsImagePtr image, const internal::Header& header,
                                     int short_side) {
  const int width = vips_image_get_width(image.get());
  const int height = vips_image_get_height(image.get());
  const int short_in = std::min(width, height);
  const double scale = static_cast<double>(short_side) / short_in;
  if (std::max(width, height) * scale > vips_max_coord_get()) {
    return Fail(ErrorCode::kTooLarge,
                std::format("a {} x {} image is too elongated to resize to a short side of {}",
                            header.width, header.height, short_side));
  }
  VipsImage* out = nullptr;
  if (vips_resize(image.get(), &out, scale, "kernel", VIPS_KERNEL_LINEAR, nullptr) != 0) {
    return std::unexpected(VipsError(ErrorCode::kInternal, "cannot resize the image"));
  }
  return VipsImagePtr(out);
}

// The crop is taken in stored orientation, where a 90-degree EXIF turn swaps its sides, and
// then turned upright; only crop-sized pixels are ever rotated.
Result<VipsImagePtr> CropUpright(VipsImagePtr resized, const internal::Header& header,
                                 const Preprocessing& p) {
  const int crop_w = header.swaps_axes ? p.crop_height : p.crop_width;
  const int crop_h = header.swaps_axes ? p.crop_width : p.crop_height;
  const int left = (vips_image_get_width(resized.get()) - crop_w) / 2;
  const int top = (vips_image_get_height(resized.get()) - crop_h) / 2;
  VipsImage* out = nullptr;
  if (vips_extract_area(resized.get(), &out, left, top, crop_w, crop_h, nullptr) != 0) {
    return std::unexpected(VipsError(ErrorCode::kInternal, "cannot crop the resized image"));
  }
  VipsImagePtr cropped(out);
  if (vips_image_get_orientation(cropped.get()) == 1) return cropped;  // upright already
  if (vips_autorot(cropped.get(), &out, nullptr) != 0) {
    return std::unexpected(VipsError(ErrorCode::kInternal, "cannot rotate the image upright"));
  }
  return VipsImagePtr(out);
}

// Runs the lazy pipeline on the calling thread: one region covering the whole crop is computed
// straight into a buffer libvips reuses, without a thread pool hand-off or an extra copy.
Result<void> WriteTensor(VipsImage* rgb, const Preprocessing& p, std::span<float> out) {
  VipsRegionPtr region(vips_region_new(rgb));
  VipsRect all{0, 0, p.crop_width, p.crop_height};
  if (vips_region_prepare(region.get(), &all) != 0) {
    return std::unexpected(VipsError(ErrorCode::kCorrupt, "corrupt or truncated image data"));
  }

  // A table per channel turns the affine normalisation into one load per value and gives the
  // exact float result of the formula a model's training code uses.
  std::array<int, 3> band{0, 1, 2};
  if (p.channel_order == ChannelOrder::kBgr) {
    band = {2, 1, 0};
  }
  std::array<std::array<float, 256>, 3> table{};
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      table[c][v] = (static_cast<float>(v) * p.scale - p.mean[c]) / p.std[c];
    }
  }

  const std::size_t plane =
      std::size_t{static_cast<unsigned>(p.crop_width)} * static_cast<unsigned>(p.crop_height);
  float* c0 = out.data();
  float* c1 = c0 + plane;
  float* c2 = c1 + plane;
  for (int y = 0; y < p.crop_height; ++y) {
    const auto* pixel = reinterpret_cast<const std::uint8_t*>(VIPS_REGION_ADDR(region.get(), 0, y));
    for (int x = 0; x < p.crop_width; ++x, pixel += 3) {
      *c0++ = table[0][pixel[band[0]]];
      *c1++ = table[1][pixel[band[1]]];
      *c2++ = table[2][pixel[band[2]]];
    }
  }
  return {};
}

}  // namespace

Result<void> Preprocess(std::span<const std::byte> bytes, const Preprocessing& p,
                        const Limits& limits, std::span<float> out) {
  assert(out.size() == p.TensorSize());
  if (auto valid = CheckGeometry(p); !valid) {
    return valid;
  }
  return internal::RunWithOwnErrors([&]() -> Result<void> {
    auto header = internal::ReadHeader(bytes, limits);
    if (!header) {
      return std::unexpected(std::move(header.error()));
    }
    // Some decoders fill what a cut-short file lacks with grey and report success.
    if (auto complete = CheckComplete(bytes, header->format); !complete) {
      return complete;
    }

    auto decoded = Decode(bytes, *header, p.resize_short_side);
    if (!decoded) {
      return std::unexpected(std::move(decoded.error()));
    }
    // Flattening alpha before resizing spares the resize the premultiplication alpha needs.
    auto rgb = internal::ToSrgb8(std::move(*decoded));
    if (!rgb) {
      return std::unexpected(std::move(rgb.error()));
    }
    auto resized = ResizeShortSide(std::move(*rgb), *header, p.resize_short_side);
    if (!resized) {
      return std::unexpected(std::move(resized.error()));
    }
    auto upright = CropUpright(std::move(*resized), *header, p);
    if (!upright) {
      return std::unexpected(std::move(upright.error()));
    }
    return WriteTensor(upright->get(), p, out);
  });
}

}  // namespace argus::image
