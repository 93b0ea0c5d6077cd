#include "image/probe.h"

#include <string_view>
#include <utility>

#include "common/bytes.h"
#include "image/header.h"
#include "image/vips_util.h"

namespace argus::image {

Result<ImageInfo> Probe(std::span<const std::byte> bytes, const Limits& limits) {
  return internal::RunWithOwnErrors([&]() -> Result<ImageInfo> {
    auto header = internal::ReadHeader(bytes, limits);
    if (!header) {
      return std::unexpected(std::move(header.error()));
    }
    if (header->swaps_axes) {
      return ImageInfo{std::move(header->format), header->height, header->width};
    }
    return ImageInfo{std::move(header->format), header->width, header->height};
  });
}

void PrepareToProbe() {
  // Every accepted loader is asked about bytes none of them takes, which loads them all.
  constexpr std::string_view kNoImage = "no image";
  (void)Probe(AsBytes(kNoImage), Limits{});
}

}  // namespace argus::image
