#pragma once

// Test-only helpers: images built in memory with libvips, encoded with its savers, and the
// shared sample photos.

#include <vips/vips.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "image/read_file.h"
#include "image/vips_init.h"
#include "image/vips_util.h"

namespace argus::image::testing {

using internal::VipsImagePtr;

// An image whose sample (x, y, band) is value(x, y, band); format is uchar or ushort.
inline VipsImagePtr MakeImage(int width, int height, int bands, VipsBandFormat format,
                              const std::function<int(int, int, int)>& value) {
  InitializeVips();
  const std::size_t sample_size = format == VIPS_FORMAT_USHORT ? 2 : 1;
  std::vector<std::byte> data(std::size_t{static_cast<unsigned>(width)} * height * bands *
                              sample_size);
  std::byte* out = data.data();
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int b = 0; b < bands; ++b, out += sample_size) {
        const auto sample = static_cast<std::uint16_t>(value(x, y, b));
        if (sample_size == 2) {
          std::memcpy(out, &sample, 2);
        } else {
          *out = static_cast<std::byte>(sample);
        }
      }
    }
  }
  return VipsImagePtr(
      vips_image_new_from_memory_copy(data.data(), data.size(), width, height, bands, format));
}

inline VipsImagePtr Solid(int width, int height, int r, int g, int b) {
  return MakeImage(width, height, 3, VIPS_FORMAT_UCHAR, [&](int, int, int band) {
    return band == 0 ? r : band == 1 ? g : b;
  });
}

// Encodes with the saver libvips picks for `suffix` (".png", ".jpg[Q=95]", ...); empty when
// that saver is unavailable.
inline std::vector<std::byte> Encode(VipsImage* image, const std::string& suffix) {
  void* buffer = nullptr;
  std::size_t length = 0;
  if (vips_image_write_to_buffer(image, suffix.c_str(), &buffer, &length, nullptr) != 0) {
    vips_error_clear();
    return {};
  }
  std::vector<std::byte> bytes(static_cast<std::byte*>(buffer),
                               static_cast<std::byte*>(buffer) + length);
  g_free(buffer);
  return bytes;
}

// A copy of `image` whose EXIF orientation tag says it must be turned to be displayed.
inline VipsImagePtr WithOrientation(VipsImage* image, int orientation) {
  VipsImage* copy = nullptr;
  vips_copy(image, &copy, nullptr);
  vips_image_set_int(copy, VIPS_META_ORIENTATION, orientation);
  return VipsImagePtr(copy);
}

inline std::vector<std::byte> Bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

inline std::filesystem::path SampleDir() {
  return std::filesystem::path(ARGUS_TEST_SHARED_DIR) / "data" / "imagenet-sample";
}

inline std::vector<std::filesystem::path> SamplePhotos() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(SampleDir())) {
    if (entry.path().extension() == ".JPEG") {
      paths.push_back(entry.path());
    }
  }
  std::ranges::sort(paths);
  return paths;
}

inline std::vector<std::byte> ReadSample(const std::filesystem::path& path) {
  auto bytes = ReadFile(path, std::size_t{50} * 1024 * 1024);
  return bytes ? std::move(*bytes) : std::vector<std::byte>{};
}

// The PNG chunk checksum (CRC-32, ISO 3309).
inline std::uint32_t Crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

// A well-formed PNG that declares width x height RGB pixels but carries almost no data: what a
// decompression bomb looks like to a header check.
inline std::vector<std::byte> PngDeclaring(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> png{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto put32 = [](std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  };
  auto chunk = [&](const char* type, const std::vector<std::uint8_t>& data) {
    put32(png, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = png.size();
    png.insert(png.end(), type, type + 4);
    png.insert(png.end(), data.begin(), data.end());
    put32(png, Crc32(png.data() + start, png.size() - start));
  };
  std::vector<std::uint8_t> ihdr;
  put32(ihdr, width);
  put32(ihdr, height);
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, adaptive filter, no interlace
  chunk("IHDR", ihdr);
  // A complete zlib stream holding one zero byte: the filter byte of the first row.
  chunk("IDAT", {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01});
  chunk("IEND", {});
  const auto* data = reinterpret_cast<const std::byte*>(png.data());
  return {data, data + png.size()};
}

}  // namespace argus::image::testing
