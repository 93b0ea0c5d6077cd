#include "image/probe.h"

#include <utility>

#include "image/header.h"

namespace argus::image {

Result<ImageInfo> Probe(std::span<const std::byte> bytes, const Limits& limits) {
  auto header = internal::ReadHeader(bytes, limits);
  if (!header) {
    return std::unexpected(std::move(header.error()));
  }
  if (header->swaps_axes) {
    return ImageInfo{std::move(header->format), header->height, header->width};
  }
  return ImageInfo{std::move(header->format), header->width, header->height};
}

}  // namespace argus::image
