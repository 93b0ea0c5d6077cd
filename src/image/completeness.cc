#include "image/completeness.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <format>
#include <string>
#include <string_view>

namespace argus::image {
namespace {

std::string_view AsText(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The IEND chunk's type followed by its 4-byte CRC.
bool PngComplete(std::string_view data) {
  const std::size_t end = data.rfind("IEND");
  return end != std::string_view::npos && end >= 8 && end + 8 <= data.size();
}

std::uint64_t BigEndian(std::string_view data, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<std::uint8_t>(data[at + i]);
  return value;
}

std::uint8_t ByteAt(std::string_view data, std::size_t at) {
  return static_cast<std::uint8_t>(data[at]);
}

// Follows the file's segments from its start-of-image, each by its length (an embedded
// thumbnail's markers lie inside one), and each scan's entropy-coded data to the marker that
// ends it (there 0xFF is followed only by 0x00 or a restart marker): complete once the
// end-of-image marker is reached. What follows it is not the image's (the video of a
// "motion photo", say) and is not read.
bool JpegComplete(std::string_view data) {
  constexpr std::uint8_t kStartOfScan = 0xDA;
  constexpr std::uint8_t kEndOfImage = 0xD9;
  const auto standalone = [](std::uint8_t marker) {
    return marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7);  // TEM, RST0-7
  };
  if (!data.starts_with("\xFF\xD8")) return false;
  std::size_t at = 2;
  while (true) {
    // Like libjpeg, skips stray bytes before a marker and the 0xFF fill bytes of its prefix.
    at = data.find('\xFF', at);
    while (at < data.size() && ByteAt(data, at) == 0xFF) ++at;
    if (at >= data.size()) return false;
    const std::uint8_t marker = ByteAt(data, at++);
    if (marker == kEndOfImage) return true;
    if (marker == 0x00 || standalone(marker)) continue;
    if (data.size() - at < 2) return false;
    const std::size_t length = (std::size_t{ByteAt(data, at)} << 8) | ByteAt(data, at + 1);
    if (length < 2 || length > data.size() - at) return false;
    at += length;
    if (marker != kStartOfScan) continue;
    while (true) {
      at = data.find('\xFF', at);
      if (at == std::string_view::npos || at + 1 >= data.size()) return false;
      const std::uint8_t next = ByteAt(data, at + 1);
      if (next != 0x00 && !standalone(next) && next != 0xFF) break;
      at += next == 0xFF ? 1 : 2;
    }
  }
}

// Follows the blocks after the header and screen descriptor (with its colour table):
// extensions and images, each a run of sub-blocks ending with an empty one, until the
// trailer. Bytes after the trailer are not the image's.
bool GifComplete(std::string_view data) {
  constexpr std::size_t kScreenEnd = 13;
  const auto colour_table = [&](std::size_t flags_at) -> std::size_t {
    const std::uint8_t flags = ByteAt(data, flags_at);
    return (flags & 0x80) != 0 ? 3 * (std::size_t{1} << ((flags & 0x07) + 1)) : 0;
  };
  const auto skip_sub_blocks = [&](std::size_t at) -> std::size_t {
    while (at < data.size() && ByteAt(data, at) != 0) at += 1 + ByteAt(data, at);
    return at < data.size() ? at + 1 : std::string_view::npos;
  };
  if (data.size() < kScreenEnd) return false;
  std::size_t at = kScreenEnd + colour_table(10);
  while (at < data.size()) {
    switch (ByteAt(data, at)) {
      case 0x3B:  // trailer
        return true;
      case 0x00:  // a stray empty block between blocks, which decoders pass over
        ++at;
        break;
      case 0x21:  // extension: its label, then sub-blocks
        at = skip_sub_blocks(at + 2);
        break;
      case 0x2C:  // image: descriptor, colour table, LZW code size, then sub-blocks
        if (data.size() - at < 10) return false;
        at = skip_sub_blocks(at + 10 + colour_table(at + 9) + 1);
        break;
      default:
        return false;
    }
  }
  return false;
}

// HEIF and AVIF files are sequences of ISO base media boxes, each starting with its size (32
// bits; 1: a 64-bit size follows the type; 0: up to the end of the file). Complete when the
// boxes fill the file; or once the metadata ("meta") and image data ("mdat") are whole, when
// what follows is no box of the format cut short but someone else's data (a phone maker's
// trailer, a motion photo's video, a line break).
bool IsoBoxesComplete(std::string_view data) {
  static constexpr std::array<std::string_view, 12> kTopLevelBoxes = {
      "ftyp", "meta", "mdat", "moov", "free", "skip",
      "uuid", "moof", "mfra", "styp", "sidx", "idat"};
  bool meta = false;
  bool media_data = false;
  const auto trailer = [&](std::string_view rest) {
    const bool box_cut_short =
        rest.size() >= 8 &&
        std::ranges::find(kTopLevelBoxes, rest.substr(4, 4)) != kTopLevelBoxes.end();
    return meta && media_data && !box_cut_short;
  };
  std::uint64_t at = 0;
  while (at < data.size()) {
    const std::string_view rest = data.substr(at);
    if (rest.size() < 8) return trailer(rest);
    std::uint64_t size = BigEndian(data, at, 4);
    if (size == 0) return true;
    if (size == 1) {
      if (rest.size() < 16) return trailer(rest);
      size = BigEndian(data, at + 8, 8);
    }
    if (size < 8 || size > rest.size()) return trailer(rest);
    const std::string_view type = rest.substr(4, 4);
    meta = meta || type == "meta";
    media_data = media_data || type == "mdat";
    at += size;
  }
  return true;
}

bool WebpComplete(std::string_view data) {
  if (data.size() < 12) return false;
  std::uint32_t declared = 0;
  for (int i = 3; i >= 0; --i) declared = (declared << 8) | static_cast<std::uint8_t>(data[4 + i]);
  return data.size() >= static_cast<std::uint64_t>(declared) + 8;
}

// Whether the ftyp box an ISO media file starts with lists an AVIF brand: its major brand,
// a minor version, then its compatible brands, four bytes each.
bool ListsAvifBrand(std::string_view data) {
  if (data.size() < 16 || data.substr(4, 4) != "ftyp") return false;
  const std::string_view box = data.substr(0, BigEndian(data, 0, 4));
  for (std::size_t at = 8; at + 4 <= box.size(); at += at == 8 ? 8 : 4) {
    if (box.substr(at, 4) == "avif" || box.substr(at, 4) == "avis") return true;
  }
  return false;
}

// As people write them in a sentence. A file probed as "heif" before its codec was known (a
// header that could not be read) is named by its brands.
std::string_view FormatName(std::string_view format, std::string_view data) {
  if (format == "jpeg") return "JPEG";
  if (format == "png") return "PNG";
  if (format == "gif") return "GIF";
  if (format == "webp") return "WebP";
  // Its brands follow the first 16 bytes: a file cut shorter cannot tell.
  if (format == "heif")
    return data.size() < 16 ? "HEIC or AVIF" : ListsAvifBrand(data) ? "AVIF" : "HEIC";
  if (format == "avif") return "AVIF";
  return format;
}

}  // namespace

Result<void> CheckComplete(std::span<const std::byte> bytes, std::string_view format) {
  const std::string_view data = AsText(bytes);
  bool complete = true;
  if (format == "jpeg") {
    complete = JpegComplete(data);
  } else if (format == "png") {
    complete = PngComplete(data);
  } else if (format == "gif") {
    complete = GifComplete(data);
  } else if (format == "webp") {
    complete = WebpComplete(data);
  } else if (format == "heif" || format == "avif") {
    complete = IsoBoxesComplete(data);
  }
  if (!complete) {
    return Fail(ErrorCode::kCorrupt, std::format("the {} data is truncated (the file is cut short)",
                                                 FormatName(format, data)));
  }
  return {};
}

}  // namespace argus::image
