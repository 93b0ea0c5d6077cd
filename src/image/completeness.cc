#include "image/completeness.h"

#include <algorithm>
#include <cstdint>
#include <format>
#include <string>
#include <string_view>

namespace argus::image {
namespace {

std::string_view AsText(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// In entropy-coded JPEG data 0xFF is always followed by 0x00 or a restart marker, so these
// byte pairs occur only as real markers (or inside an earlier embedded thumbnail). Complete:
// an end-of-image marker after the last start-of-scan. Searched for from the end-of-image,
// which a complete file ends with, so a complete file is not read through.
bool JpegComplete(std::string_view data) {
  const std::size_t last_end = data.rfind("\xFF\xD9");
  return last_end != std::string_view::npos &&
         data.find("\xFF\xDA", last_end + 2) == std::string_view::npos &&
         data.find("\xFF\xDA") < last_end;
}

// The IEND chunk's type followed by its 4-byte CRC.
bool PngComplete(std::string_view data) {
  const std::size_t end = data.rfind("IEND");
  return end != std::string_view::npos && end >= 8 && end + 8 <= data.size();
}

bool GifComplete(std::string_view data) {
  const std::size_t tail = std::min<std::size_t>(data.size(), 16);
  return data.substr(data.size() - tail).find('\x3B') != std::string_view::npos;
}

std::uint64_t BigEndian(std::string_view data, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<std::uint8_t>(data[at + i]);
  return value;
}

// HEIF and AVIF files are sequences of ISO base media boxes, each starting with its size (32
// bits; 1: a 64-bit size follows the type; 0: up to the end of the file): the boxes must
// exactly fill the file.
bool IsoBoxesComplete(std::string_view data) {
  std::uint64_t at = 0;
  while (at < data.size()) {
    if (data.size() - at < 8) return false;
    std::uint64_t size = BigEndian(data, at, 4);
    if (size == 0) return true;
    if (size == 1) {
      if (data.size() - at < 16) return false;
      size = BigEndian(data, at + 8, 8);
    }
    if (size < 8 || size > data.size() - at) return false;
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
  if (format == "heif") return ListsAvifBrand(data) ? "AVIF" : "HEIC";
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
