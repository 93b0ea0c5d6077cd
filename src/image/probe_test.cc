#include "image/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "image/test_images.h"

namespace argus::image {
namespace {

using testing::Bytes;
using testing::Encode;
using ::testing::HasSubstr;
using testing::MakeImage;
using testing::PngDeclaring;
using testing::ReadSample;
using testing::SampleDir;
using testing::Solid;
using testing::WithOrientation;

const Limits kDefaultLimits;

TEST(ProbeTest, RecognisesFormatsMadeByLibvipsSavers) {
  auto image = Solid(40, 30, 200, 100, 50);
  const std::pair<const char*, const char*> cases[] = {
      {".jpg", "jpeg"}, {".png", "png"}, {".webp", "webp"}, {".gif", "gif"}};
  for (const auto& [suffix, format] : cases) {
    SCOPED_TRACE(suffix);
    auto bytes = Encode(image.get(), suffix);
    ASSERT_FALSE(bytes.empty());
    auto info = Probe(bytes, kDefaultLimits);
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->format, format);
    EXPECT_EQ(info->width, 40);
    EXPECT_EQ(info->height, 30);
  }
}

// libheif reads where its items lie with the header, so a file cut short fails there: the
// user is told so in a sentence, not with libheif's account of the seeks that failed.
TEST(ProbeTest, HeifAndAvifFilesCutShortAreNamedTruncated) {
  auto image = Solid(64, 48, 200, 100, 50);
  int encoded = 0;
  for (const auto& [suffix, name] : {std::pair{".heic", "HEIC"}, std::pair{".avif", "AVIF"}}) {
    auto bytes = Encode(image.get(), suffix);
    if (bytes.empty()) continue;
    ++encoded;
    for (std::size_t cut : {bytes.size() / 2, bytes.size() - 1}) {
      auto info = Probe(std::span(bytes).first(cut), kDefaultLimits);
      ASSERT_FALSE(info.has_value()) << suffix << " cut at " << cut;
      EXPECT_EQ(info.error().code, ErrorCode::kCorrupt);
      EXPECT_EQ(info.error().message,
                std::string("the ") + name + " data is truncated (the file is cut short)")
          << suffix << " cut at " << cut;
    }
    // Cut before its brands, it cannot be told which (an AVIF was called HEIC).
    auto head = Probe(std::span(bytes).first(12), kDefaultLimits);
    ASSERT_FALSE(head.has_value()) << suffix;
    EXPECT_THAT(head.error().message, HasSubstr("the HEIC or AVIF data is truncated")) << suffix;
  }
  if (encoded == 0) {
    GTEST_SKIP() << "libheif has no HEVC or AV1 encoder plugin here, so no HEIC/AVIF can be made";
  }
}

TEST(ProbeTest, RecognisesHeifAndAvifWhenAnEncoderIsInstalled) {
  auto image = Solid(64, 48, 200, 100, 50);
  int encoded = 0;
  for (const auto& [suffix, format] : {std::pair{".heic", "heif"}, std::pair{".avif", "avif"}}) {
    auto bytes = Encode(image.get(), suffix);
    if (bytes.empty()) {
      continue;
    }
    ++encoded;
    auto info = Probe(bytes, kDefaultLimits);
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->format, format);
    EXPECT_EQ(info->width, 64);
    EXPECT_EQ(info->height, 48);
  }
  if (encoded == 0) {
    GTEST_SKIP() << "libheif has no HEVC or AV1 encoder plugin here, so no HEIC/AVIF can be made";
  }
}

TEST(ProbeTest, ReportsSizeAfterExifOrientation) {
  auto image = Solid(40, 20, 10, 20, 30);
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    auto bytes = Encode(WithOrientation(image.get(), orientation).get(), ".jpg");
    auto info = Probe(bytes, kDefaultLimits);
    ASSERT_TRUE(info.has_value()) << info.error().message;
    const bool turned = orientation >= 5;
    EXPECT_EQ(info->width, turned ? 20 : 40);
    EXPECT_EQ(info->height, turned ? 40 : 20);
  }
}

TEST(ProbeTest, ReadsASamplePhoto) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  auto info = Probe(bytes, kDefaultLimits);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->format, "jpeg");
  EXPECT_EQ(info->width, 500);
  EXPECT_EQ(info->height, 375);
}

TEST(ProbeTest, ProbesAsBeforeAfterPreparing) {
  PrepareToProbe();
  auto info = Probe(Encode(Solid(40, 30, 200, 100, 50).get(), ".png"), kDefaultLimits);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->format, "png");
}

// A JPEG whose frame header declares 12-bit samples, which this libjpeg refuses.
std::vector<std::byte> TwelveBitJpeg() {
  auto jpeg = Encode(Solid(32, 32, 10, 20, 30).get(), ".jpg");
  for (std::size_t i = 0; i + 4 < jpeg.size(); ++i) {
    if (jpeg[i] == std::byte{0xFF} && jpeg[i + 1] == std::byte{0xC0}) {
      jpeg[i + 4] = std::byte{12};
      break;
    }
  }
  return jpeg;
}

// libvips keeps one error buffer for the process: without care, images failing on several
// threads at once got one another's messages, or none.
TEST(ProbeTest, ConcurrentFailuresEachReportTheirOwnDecoderMessage) {
  const auto jpeg = TwelveBitJpeg();
  const auto png = PngDeclaring(1, 0x7fffffff);
  {
    auto alone = Probe(jpeg, kDefaultLimits);
    ASSERT_FALSE(alone.has_value());
    ASSERT_THAT(alone.error().message, HasSubstr("precision 12"));
    alone = Probe(png, kDefaultLimits);
    ASSERT_FALSE(alone.has_value());
    ASSERT_THAT(alone.error().message, HasSubstr("pngload"));
  }
  std::atomic<int> wrong = 0;
  std::string example;
  std::mutex example_mutex;
  std::vector<std::jthread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const bool jpeg_thread = t % 2 == 0;
      const std::string_view own = jpeg_thread ? "precision 12" : "pngload";
      const std::string_view other = jpeg_thread ? "pngload" : "precision 12";
      for (int i = 0; i < 300; ++i) {
        auto info = Probe(jpeg_thread ? jpeg : png, kDefaultLimits);
        const std::string message = info ? "" : info.error().message;
        if (message.find(own) == std::string::npos || message.find(other) != std::string::npos) {
          ++wrong;
          std::lock_guard lock(example_mutex);
          example = message;
        }
      }
    });
  }
  threads.clear();
  EXPECT_EQ(wrong, 0) << "for example: " << example;
}

TEST(ProbeTest, RefusesEmptyInput) {
  auto info = Probe({}, kDefaultLimits);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(info.error().message, "empty file");
}

TEST(ProbeTest, RefusesTextAndRandomBytes) {
  std::mt19937 random(42);
  std::vector<std::byte> noise(4096);
  for (auto& b : noise) {
    b = static_cast<std::byte>(random());
  }
  for (const auto& bytes : {Bytes("this is a text file, not a photo\n"), noise}) {
    auto info = Probe(bytes, kDefaultLimits);
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, ErrorCode::kUnsupportedMedia);
    EXPECT_THAT(info.error().message, HasSubstr("not a supported image"));
  }
}

TEST(ProbeTest, RefusesFormatsLibvipsKnowsButTheServiceDoesNotAccept) {
  auto svg = Bytes(R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>)");
  auto tiff = Encode(Solid(8, 8, 1, 2, 3).get(), ".tif");
  ASSERT_FALSE(tiff.empty());
  for (const auto& bytes : {svg, tiff}) {
    auto info = Probe(bytes, kDefaultLimits);
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, ErrorCode::kUnsupportedMedia);
  }
}

TEST(ProbeTest, ReportsADamagedHeaderAsCorrupt) {
  // A JPEG signature followed by garbage: the loader is chosen, the header cannot be read.
  std::vector<std::byte> bytes = Bytes("\xff\xd8\xff\xe0 garbage where the header should be");
  auto info = Probe(bytes, kDefaultLimits);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kCorrupt);
}

TEST(ProbeTest, RefusesInputOverTheByteLimit) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  auto info = Probe(bytes, Limits{.max_bytes = bytes.size() - 1});
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kTooLarge);
  EXPECT_TRUE(Probe(bytes, Limits{.max_bytes = bytes.size()}).has_value());
}

TEST(ProbeTest, RefusesImagesOverThePixelLimitNamingTheirSize) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  auto info = Probe(bytes, Limits{.max_pixels = std::uint64_t{500} * 375 - 1});
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kTooLarge);
  EXPECT_THAT(info.error().message, HasSubstr("500 x 375"));
  EXPECT_TRUE(Probe(bytes, Limits{.max_pixels = std::uint64_t{500} * 375}).has_value());
}

TEST(ProbeTest, RefusesADecompressionBombFromItsHeader) {
  auto bomb = PngDeclaring(50'000, 50'000);
  ASSERT_LT(bomb.size(), 100u);
  auto info = Probe(bomb, kDefaultLimits);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kTooLarge);
  EXPECT_THAT(info.error().message, HasSubstr("50000 x 50000"));
}

// libspng refuses a width over 2^31 - 1 before libvips reads the size: that is an image too
// large (413), not a damaged one (it was answered 400 corrupt).
TEST(ProbeTest, APngWiderThanItsDecoderAllowsIsTooLarge) {
  auto info = Probe(PngDeclaring(2'147'483'647u, 1), kDefaultLimits);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kTooLarge);
  EXPECT_THAT(info.error().message, HasSubstr("larger than its decoder allows"));
}

// Within the pixel limit, but no model's resize can take it: it is refused before it is
// stored, where it used to be taken and then always fail.
TEST(ProbeTest, RefusesAnImageTooElongatedToClassify) {
  for (const auto& [width, height] : {std::pair{1u, 400'000u}, std::pair{400'000u, 1u}}) {
    auto info = Probe(PngDeclaring(width, height), kDefaultLimits);
    ASSERT_FALSE(info.has_value());
    EXPECT_EQ(info.error().code, ErrorCode::kTooLarge);
    EXPECT_THAT(info.error().message, HasSubstr("too elongated"));
  }
  auto banner = Probe(PngDeclaring(20'000, 40), kDefaultLimits);
  EXPECT_TRUE(banner.has_value()) << banner.error().message;
}

// A valid JPEG the decoder does not take is unsupported, not damaged.
TEST(ProbeTest, ATwelveBitJpegIsUnsupportedNotCorrupt) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  const std::byte start_of_frame[] = {std::byte{0xFF}, std::byte{0xC0}};
  const auto frame = std::ranges::search(bytes, start_of_frame);
  ASSERT_FALSE(frame.empty());
  *(frame.begin() + 4) = std::byte{12};  // the sample precision, after the marker and length
  auto info = Probe(bytes, kDefaultLimits);
  ASSERT_FALSE(info.has_value());
  EXPECT_EQ(info.error().code, ErrorCode::kUnsupportedMedia) << info.error().message;
  EXPECT_THAT(info.error().message, HasSubstr("precision 12"));
}

TEST(ProbeTest, ReadsOnlyTheHeaderOfATruncatedFile) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  bytes.resize(bytes.size() / 2);
  auto info = Probe(bytes, kDefaultLimits);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  EXPECT_EQ(info->width, 500);
}

TEST(ProbeTest, AcceptsGreyAndAlphaImages) {
  auto grey = MakeImage(9, 7, 1, VIPS_FORMAT_UCHAR, [](int x, int, int) { return x * 20; });
  auto rgba = MakeImage(9, 7, 4, VIPS_FORMAT_UCHAR, [](int, int, int) { return 128; });
  for (VipsImage* image : {grey.get(), rgba.get()}) {
    auto info = Probe(Encode(image, ".png"), kDefaultLimits);
    ASSERT_TRUE(info.has_value()) << info.error().message;
    EXPECT_EQ(info->width, 9);
    EXPECT_EQ(info->height, 7);
  }
}

}  // namespace
}  // namespace argus::image
