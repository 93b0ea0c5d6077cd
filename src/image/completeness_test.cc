#include "image/completeness.h"

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "image/read_file.h"
#include "image/test_images.h"
#include "image/vips_init.h"

namespace argus::image {
namespace {

std::vector<std::byte> Save(const char* suffix) {
  InitializeVips();
  VipsImage* image = nullptr;
  EXPECT_EQ(vips_black(&image, 64, 48, "bands", 3, nullptr), 0);
  void* buffer = nullptr;
  std::size_t size = 0;
  EXPECT_EQ(vips_image_write_to_buffer(image, suffix, &buffer, &size, nullptr), 0)
      << vips_error_buffer();
  g_object_unref(image);
  const auto* bytes = static_cast<const std::byte*>(buffer);
  std::vector<std::byte> result(bytes, bytes + size);
  g_free(buffer);
  return result;
}

TEST(CheckCompleteTest, WholeFilesPass) {
  auto photo =
      ReadFile(ARGUS_TEST_SHARED_DIR "/data/imagenet-sample/n01440764_tench.JPEG", 1 << 24);
  ASSERT_TRUE(photo);
  EXPECT_TRUE(CheckComplete(*photo, "jpeg"));
  for (const auto& [suffix, format] : {std::pair{".png", "png"}, std::pair{".gif", "gif"},
                                       std::pair{".webp", "webp"}, std::pair{".jpg", "jpeg"}}) {
    EXPECT_TRUE(CheckComplete(Save(suffix), format)) << format;
  }
}

TEST(CheckCompleteTest, FilesCutShortAreCorrupt) {
  auto photo =
      ReadFile(ARGUS_TEST_SHARED_DIR "/data/imagenet-sample/n01440764_tench.JPEG", 1 << 24);
  ASSERT_TRUE(photo);
  for (double fraction : {0.25, 0.5, 0.9, 0.999}) {
    const auto cut = std::span(*photo).first(
        static_cast<std::size_t>(static_cast<double>(photo->size()) * fraction));
    auto result = CheckComplete(cut, "jpeg");
    ASSERT_FALSE(result) << fraction;
    EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  }
  for (const auto& [suffix, format] :
       {std::pair{".png", "png"}, std::pair{".gif", "gif"}, std::pair{".webp", "webp"}}) {
    const auto whole = Save(suffix);
    EXPECT_FALSE(CheckComplete(std::span(whole).first(whole.size() - 4), format)) << format;
  }
}

TEST(CheckCompleteTest, HeifAndAvifFilesCutShortAreCorrupt) {
  for (const auto& [suffix, format] : {std::pair{".heic", "heif"}, std::pair{".avif", "avif"}}) {
    SCOPED_TRACE(format);
    const auto whole = testing::Encode(testing::Solid(64, 48, 40, 160, 220).get(), suffix);
    ASSERT_GT(whole.size(), 100u);
    EXPECT_TRUE(CheckComplete(whole, format));
    for (std::size_t cut : {whole.size() / 10, whole.size() / 2, whole.size() - 1}) {
      auto result = CheckComplete(std::span(whole).first(cut), format);
      ASSERT_FALSE(result) << cut;
      EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
    }
  }
}

// Box sizes of 0 (up to the end of the file) and 1 (a 64-bit size after the type).
TEST(CheckCompleteTest, ReadsEveryFormOfIsoBoxSize) {
  auto box = [](std::uint32_t size, std::string_view type, std::size_t payload) {
    std::string bytes;
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>(size >> shift);
    return bytes + std::string(type) + std::string(payload, 'x');
  };
  auto large_box = [](std::uint64_t size, std::string_view type, std::size_t payload) {
    std::string bytes("\0\0\0\1", 4);
    bytes += type;
    for (int shift = 56; shift >= 0; shift -= 8) bytes += static_cast<char>(size >> shift);
    return bytes + std::string(payload, 'x');
  };
  auto complete = [](const std::string& file) {
    return CheckComplete(std::as_bytes(std::span(file)), "heif").has_value();
  };
  const std::string head = box(16, "ftyp", 8);
  EXPECT_TRUE(complete(head + box(0, "mdat", 100)));
  EXPECT_TRUE(complete(head + large_box(116, "mdat", 100)));
  EXPECT_FALSE(complete(head + large_box(117, "mdat", 100)));
  EXPECT_FALSE(complete(head + box(20, "meta", 11)));
  EXPECT_FALSE(complete(head + box(4, "meta", 0)));         // smaller than its own header
  EXPECT_FALSE(complete(head + std::string("\0\0\0", 3)));  // a header cut short
}

TEST(CheckCompleteTest, AJpegWhoseLastScanFollowsEveryEndMarkerIsCutShort) {
  const auto whole = Save(".jpg");
  ASSERT_TRUE(CheckComplete(whole, "jpeg"));
  // An embedded thumbnail ends with its own end marker before the main image's scan.
  std::vector<std::byte> thumbnail_first{std::byte{0xFF}, std::byte{0xD9}};
  thumbnail_first.insert(thumbnail_first.end(), whole.begin(), whole.end() - 2);
  EXPECT_FALSE(CheckComplete(thumbnail_first, "jpeg"));
  EXPECT_FALSE(CheckComplete(std::span(whole).first(whole.size() - 1), "jpeg"));
}

}  // namespace
}  // namespace argus::image
