#include "image/completeness.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace argus::image {
namespace {

std::string_view AsText(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// In entropy-coded JPEG data 0xFF is always followed by 0x00 or a restart marker, so these
// byte pairs occur only as real markers (or inside an earlier embedded thumbnail).
bool JpegComplete(std::string_view data) {
  const std::size_t last_scan = data.rfind("\xFF\xDA");
  return last_scan != std::string_view::npos &&
         data.find("\xFF\xD9", last_scan + 2) != std::string_view::npos;
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

bool WebpComplete(std::string_view data) {
  if (data.size() < 12) return false;
  std::uint32_t declared = 0;
  for (int i = 3; i >= 0; --i) declared = (declared << 8) | static_cast<std::uint8_t>(data[4 + i]);
  return data.size() >= static_cast<std::uint64_t>(declared) + 8;
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
  }
  if (!complete) {
    return Fail(ErrorCode::kCorrupt,
                "the " + std::string(format) + " data is truncated (the file is cut short)");
  }
  return {};
}

}  // namespace argus::image
