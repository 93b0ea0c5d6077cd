#pragma once

#include <cstddef>
#include <cstdint>

namespace argus::image {

// Guards against decompression bombs and oversized uploads, checked before any pixel is decoded.
struct Limits {
  std::size_t max_bytes = std::size_t{50} * 1024 * 1024;
  std::uint64_t max_pixels = 100'000'000;  // width * height as declared in the header
};

}  // namespace argus::image
