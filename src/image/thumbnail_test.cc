#include "image/thumbnail.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "image/probe.h"
#include "image/test_images.h"

namespace argus::image {
namespace {

using testing::Bytes;
using testing::Encode;
using testing::MakeImage;
using testing::ReadSample;
using testing::SampleDir;
using testing::Solid;
using testing::VipsImagePtr;
using testing::WithOrientation;

const Limits kDefaultLimits;

ImageInfo ProbeJpeg(const std::vector<std::byte>& bytes) {
  auto info = Probe(bytes, kDefaultLimits);
  EXPECT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->format, "jpeg");
  return *info;
}

TEST(ThumbnailTest, FitsTheLongerSideIntoMaxSide) {
  auto photo = ReadSample(SampleDir() / "n01440764_tench.JPEG");  // 500 x 375
  auto thumbnail = MakeThumbnail(photo, 128, kDefaultLimits);
  ASSERT_TRUE(thumbnail.has_value()) << thumbnail.error().message;
  ASSERT_GE(thumbnail->size(), 2u);
  EXPECT_EQ((*thumbnail)[0], std::byte{0xff});
  EXPECT_EQ((*thumbnail)[1], std::byte{0xd8});
  auto info = ProbeJpeg(*thumbnail);
  EXPECT_EQ(info.width, 128);
  EXPECT_EQ(info.height, 96);
}

TEST(ThumbnailTest, FitsPortraitAndRotatedImages) {
  auto portrait = Encode(Solid(300, 900, 1, 2, 3).get(), ".png");
  auto info = ProbeJpeg(*MakeThumbnail(portrait, 150, kDefaultLimits));
  EXPECT_EQ(info.width, 50);
  EXPECT_EQ(info.height, 150);

  // Stored landscape, displayed portrait: the thumbnail is upright and carries no EXIF tag
  // that a viewer could apply a second time.
  auto turned = Encode(WithOrientation(Solid(900, 300, 1, 2, 3).get(), 6).get(), ".jpg");
  auto thumbnail = MakeThumbnail(turned, 150, kDefaultLimits);
  ASSERT_TRUE(thumbnail.has_value()) << thumbnail.error().message;
  info = ProbeJpeg(*thumbnail);
  EXPECT_EQ(info.width, 50);
  EXPECT_EQ(info.height, 150);
  VipsImagePtr decoded(
      vips_image_new_from_buffer(thumbnail->data(), thumbnail->size(), "", nullptr));
  ASSERT_NE(decoded, nullptr);
  EXPECT_EQ(vips_image_get_orientation(decoded.get()), 1);
}

TEST(ThumbnailTest, KeepsSmallImagesAtTheirSize) {
  auto small = Encode(Solid(64, 40, 1, 2, 3).get(), ".png");
  auto info = ProbeJpeg(*MakeThumbnail(small, 256, kDefaultLimits));
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 40);
}

TEST(ThumbnailTest, ShowsTransparencyAsWhite) {
  auto clear = MakeImage(100, 100, 4, VIPS_FORMAT_UCHAR, [](int, int, int) { return 0; });
  auto thumbnail = MakeThumbnail(Encode(clear.get(), ".png"), 50, kDefaultLimits);
  ASSERT_TRUE(thumbnail.has_value()) << thumbnail.error().message;
  VipsImagePtr decoded(
      vips_image_new_from_buffer(thumbnail->data(), thumbnail->size(), "", nullptr));
  ASSERT_NE(decoded, nullptr);
  EXPECT_EQ(vips_image_get_bands(decoded.get()), 3);
  double mean = 0;
  ASSERT_EQ(vips_avg(decoded.get(), &mean, nullptr), 0);
  EXPECT_GT(mean, 250);
}

TEST(ThumbnailTest, RefusesANonPositiveSize) {
  auto photo = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  auto thumbnail = MakeThumbnail(photo, 0, kDefaultLimits);
  ASSERT_FALSE(thumbnail.has_value());
  EXPECT_EQ(thumbnail.error().code, ErrorCode::kInvalidArgument);
}

TEST(ThumbnailTest, ReportsBadInput) {
  auto truncated = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  truncated.resize(truncated.size() / 2);
  auto thumbnail = MakeThumbnail(truncated, 128, kDefaultLimits);
  ASSERT_FALSE(thumbnail.has_value());
  EXPECT_EQ(thumbnail.error().code, ErrorCode::kCorrupt);

  thumbnail = MakeThumbnail(Bytes("not an image"), 128, kDefaultLimits);
  ASSERT_FALSE(thumbnail.has_value());
  EXPECT_EQ(thumbnail.error().code, ErrorCode::kUnsupportedMedia);

  thumbnail = MakeThumbnail(testing::PngDeclaring(50'000, 50'000), 128, kDefaultLimits);
  ASSERT_FALSE(thumbnail.has_value());
  EXPECT_EQ(thumbnail.error().code, ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace argus::image
