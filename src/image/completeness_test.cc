#include "image/completeness.h"

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <filesystem>

#include "image/read_file.h"
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

TEST(CheckCompleteTest, FormatsWithoutACheapCheckPass) {
  const std::vector<std::byte> anything(10, std::byte{1});
  EXPECT_TRUE(CheckComplete(anything, "heif"));
}

}  // namespace
}  // namespace argus::image
