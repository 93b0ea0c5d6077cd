#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "image/limits.h"

namespace argus::image {

enum class ChannelOrder : std::uint8_t { kRgb, kBgr };

// The ImageNet-style transform a model manifest describes.
struct Preprocessing {
  int resize_short_side = 256;  // resize so the short side is this many pixels (up or down)...
  int crop_width = 224;         // ...then center-crop to crop_width x crop_height
  int crop_height = 224;
  float scale = 1.0f / 255.0f;  // pixel * scale, then (x - mean[c]) / std[c]
  // Per tensor channel, i.e. already in channel_order.
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
  ChannelOrder channel_order = ChannelOrder::kRgb;

  std::size_t TensorSize() const { return std::size_t{3} * crop_width * crop_height; }
};

// Decodes an image, applies its EXIF orientation, resizes it so the short side is
// p.resize_short_side, center-crops it and writes it into `out` as a planar CHW float tensor
// (one image of an NCHW batch). out.size() must equal p.TensorSize().
//
// Errors: those of Probe, kInvalidArgument when the crop does not fit inside the resized short
// side, kTooLarge when the aspect ratio is too extreme to resize, kCorrupt for truncated pixel
// data and damage the decoder reports (flipped bits a JPEG decoder resynchronises past only
// garble pixels). `out` is unspecified after an error.
Result<void> Preprocess(std::span<const std::byte> bytes, const Preprocessing& p,
                        const Limits& limits, std::span<float> out);

}  // namespace argus::image
