#include "image/completeness.h"

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

std::vector<std::byte> Followed(std::vector<std::byte> file, std::string_view trailer) {
  const auto bytes = std::as_bytes(std::span(trailer));
  file.insert(file.end(), bytes.begin(), bytes.end());
  return file;
}

// Phones append data after the image: a "motion photo" is a JPEG followed by its video, a
// Samsung HEIC ends with a trailer of its own. Those photos were refused as cut short when the
// trailer held a start-of-scan marker, or any byte after an AVIF's last box.
TEST(CheckCompleteTest, DataAfterTheEndOfTheImageIsNotTheImages) {
  const auto jpeg = Save(".jpg");
  for (std::string_view trailer :
       {std::string_view("\0\0\xFF\xDA\0\0\0\0", 8), std::string_view("ftypmp42\xFF\xDA\x01")}) {
    EXPECT_TRUE(CheckComplete(Followed(jpeg, trailer), "jpeg"));
  }
  EXPECT_TRUE(CheckComplete(Followed(Save(".gif"), std::string(17, '\0')), "gif"));
  // A stray empty block before the trailer, which decoders pass over.
  auto gif = Save(".gif");
  gif.insert(gif.end() - 1, std::byte{0});
  EXPECT_TRUE(CheckComplete(gif, "gif"));
  EXPECT_TRUE(CheckComplete(Followed(Save(".png"), "trailing"), "png"));
  for (const auto& [suffix, format] : {std::pair{".heic", "heif"}, std::pair{".avif", "avif"}}) {
    const auto whole = testing::Encode(testing::Solid(64, 48, 40, 160, 220).get(), suffix);
    EXPECT_TRUE(CheckComplete(Followed(whole, "\n"), format)) << format;
    EXPECT_TRUE(CheckComplete(
        Followed(whole, std::string("SEFH", 4) + std::string(12, '\0') + "SEFT"), format))
        << format;
    EXPECT_TRUE(CheckComplete(Followed(whole, "MotionPhoto_Data and a video"), format)) << format;
    // A box of the format cut short after the image is a file cut short.
    EXPECT_FALSE(
        CheckComplete(Followed(whole, std::string("\0\0\x10\0free", 8) + "partial"), format))
        << format;
  }
}

// An embedded thumbnail (inside an APP1 segment) holds its own scan and end-of-image marker:
// the main image's scan cut short is still found.
TEST(CheckCompleteTest, AJpegCutShortInItsScanAfterAWholeThumbnailIsCutShort) {
  const auto thumbnail = Save(".jpg");
  const auto main = Save(".jpg");
  const std::size_t length = 2 + 6 + thumbnail.size();
  std::vector<std::byte> file{std::byte{0xFF},
                              std::byte{0xD8},
                              std::byte{0xFF},
                              std::byte{0xE1},
                              static_cast<std::byte>(length >> 8),
                              static_cast<std::byte>(length & 0xFF)};
  const std::string_view exif("Exif\0\0", 6);
  for (char c : exif) file.push_back(static_cast<std::byte>(c));
  file.insert(file.end(), thumbnail.begin(), thumbnail.end());
  file.insert(file.end(), main.begin() + 2, main.end());
  EXPECT_TRUE(CheckComplete(file, "jpeg"));
  for (std::size_t cut : {main.size() / 2, main.size() - 3}) {
    EXPECT_FALSE(CheckComplete(std::span(file).first(file.size() - main.size() + cut), "jpeg"))
        << cut;
  }
}

// A GIF is cut short anywhere before its trailer, in a colour table as in the image data.
TEST(CheckCompleteTest, AGifCutShortAnywhereIsCutShort) {
  const auto whole = Save(".gif");
  ASSERT_TRUE(CheckComplete(whole, "gif"));
  for (std::size_t cut = 0; cut + 1 < whole.size(); ++cut) {
    EXPECT_FALSE(CheckComplete(std::span(whole).first(cut), "gif")) << cut;
  }
}

}  // namespace
}  // namespace argus::image
