#include "image/preprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "image/test_images.h"
#include "image/vips_init.h"
#include "image/vips_util.h"

namespace argus::image {
namespace {

using testing::Bytes;
using testing::Encode;
using testing::MakeImage;
using testing::PngDeclaring;
using testing::ReadSample;
using testing::SampleDir;
using testing::SamplePhotos;
using testing::Solid;
using testing::WithOrientation;

using Rgb = std::array<int, 3>;

const Limits kDefaultLimits;

// What the tensor must hold for an 8-bit value v in tensor channel c.
float Normalised(int v, int c, const Preprocessing& p) {
  return (static_cast<float>(v) * p.scale - p.mean[c]) / p.std[c];
}

// One normalised unit is this many 8-bit levels' worth of tolerance.
float Levels(int levels, int c, const Preprocessing& p) {
  return static_cast<float>(levels) * p.scale / p.std[c];
}

struct Tensor {
  explicit Tensor(const Preprocessing& p) : p(p), values(p.TensorSize()) {}
  float At(int c, int y, int x) const {
    return values[(static_cast<std::size_t>(c) * p.crop_height + y) * p.crop_width + x];
  }
  Preprocessing p;
  std::vector<float> values;
};

Result<Tensor> Preprocessed(std::span<const std::byte> bytes, const Preprocessing& p,
                            const Limits& limits = kDefaultLimits) {
  Tensor tensor(p);
  auto done = Preprocess(bytes, p, limits, tensor.values);
  if (!done) {
    return std::unexpected(done.error());
  }
  return tensor;
}

// Every value of channel c is exactly the normalised `v`; reports the first mismatch only.
void ExpectChannelIs(const Tensor& t, int c, int v) {
  const float want = Normalised(v, c, t.p);
  for (int y = 0; y < t.p.crop_height; ++y) {
    for (int x = 0; x < t.p.crop_width; ++x) {
      if (std::abs(t.At(c, y, x) - want) > 1e-5f) {
        ADD_FAILURE() << "channel " << c << " at (" << x << ", " << y << ") is " << t.At(c, y, x)
                      << ", want " << want << " (value " << v << ")";
        return;
      }
    }
  }
}

void ExpectColourNear(const Tensor& t, int y, int x, const Rgb& rgb, int levels) {
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(t.At(c, y, x), Normalised(rgb[c], c, t.p), Levels(levels, c, t.p))
        << "channel " << c << " at (" << x << ", " << y << ")";
  }
}

TEST(PreprocessTest, SolidColourGivesExactlyTheNormalisedValues) {
  const Preprocessing p{.resize_short_side = 64, .crop_width = 56, .crop_height = 40};
  auto tensor = Preprocessed(Encode(Solid(300, 200, 25, 128, 230).get(), ".png"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  ExpectChannelIs(*tensor, 0, 25);
  ExpectChannelIs(*tensor, 1, 128);
  ExpectChannelIs(*tensor, 2, 230);
}

TEST(PreprocessTest, UpscalesASmallImage) {
  auto tensor = Preprocessed(Encode(Solid(64, 64, 200, 10, 90).get(), ".png"), Preprocessing{});
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  ExpectChannelIs(*tensor, 0, 200);
  ExpectChannelIs(*tensor, 1, 10);
  ExpectChannelIs(*tensor, 2, 90);
}

// 64 x 32, left half red, right half blue; resizing to a short side of 32 keeps it as is and the
// 32 x 32 center crop is columns 16..47, so crop columns below 16 are red.
std::vector<std::byte> LeftRedRightBlue() {
  return Encode(MakeImage(64, 32, 3, VIPS_FORMAT_UCHAR,
                          [](int x, int, int band) {
                            const Rgb colour = x < 32 ? Rgb{255, 0, 0} : Rgb{0, 0, 255};
                            return colour[band];
                          })
                    .get(),
                ".png");
}

TEST(PreprocessTest, WritesPlanarRgbChannels) {
  const Preprocessing p{.resize_short_side = 32, .crop_width = 32, .crop_height = 32};
  auto tensor = Preprocessed(LeftRedRightBlue(), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  for (int y : {0, 13, 31}) {
    ExpectColourNear(*tensor, y, 2, {255, 0, 0}, 0);
    ExpectColourNear(*tensor, y, 29, {0, 0, 255}, 0);
  }
}

TEST(PreprocessTest, BgrOrderSwapsTheOuterChannels) {
  const Preprocessing p{.resize_short_side = 32,
                        .crop_width = 32,
                        .crop_height = 32,
                        .channel_order = ChannelOrder::kBgr};
  auto tensor = Preprocessed(LeftRedRightBlue(), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  // Tensor channel 0 is blue now; mean and std are indexed by tensor channel.
  ExpectColourNear(*tensor, 7, 2, {0, 0, 255}, 0);
  ExpectColourNear(*tensor, 7, 29, {255, 0, 0}, 0);
}

// Stored 2:1 with one colour per quadrant. Every orientation is displayed as a 2 x 2 grid of
// quadrants again; resized to a short side of 40, the 40 x 40 center crop holds a 20 x 20
// piece of each. At 1600 x 800 the decoder shrinks by 8 first.
class OrientationTest : public ::testing::TestWithParam<int> {};

TEST_P(OrientationTest, AppliesEveryExifOrientation) {
  const int width = GetParam(), height = GetParam() / 2;
  const std::array<std::array<Rgb, 2>, 2> stored{{
      {Rgb{255, 0, 0}, Rgb{0, 255, 0}},      // top: red, green
      {Rgb{0, 0, 255}, Rgb{255, 255, 255}},  // bottom: blue, white
  }};
  auto image = MakeImage(width, height, 3, VIPS_FORMAT_UCHAR, [&](int x, int y, int band) {
    return stored[2 * y / height][2 * x / width][band];
  });
  const Preprocessing p{.resize_short_side = 40, .crop_width = 40, .crop_height = 40};
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    // Where the stored quadrant (column sx, row sy) is displayed, from the EXIF definitions.
    auto displayed_at = [orientation](int sx, int sy) -> std::pair<int, int> {
      switch (orientation) {
        case 2:
          return {1 - sx, sy};
        case 3:
          return {1 - sx, 1 - sy};
        case 4:
          return {sx, 1 - sy};
        case 5:
          return {sy, sx};
        case 6:
          return {1 - sy, sx};
        case 7:
          return {1 - sy, 1 - sx};
        case 8:
          return {sy, 1 - sx};
        default:
          return {sx, sy};
      }
    };
    std::array<std::array<Rgb, 2>, 2> shown{};
    for (int sy = 0; sy < 2; ++sy) {
      for (int sx = 0; sx < 2; ++sx) {
        const auto [dx, dy] = displayed_at(sx, sy);
        shown[dy][dx] = stored[sy][sx];
      }
    }
    auto bytes = Encode(WithOrientation(image.get(), orientation).get(), ".jpg[Q=95]");
    auto tensor = Preprocessed(bytes, p);
    ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
    for (int qy = 0; qy < 2; ++qy) {
      for (int qx = 0; qx < 2; ++qx) {
        ExpectColourNear(*tensor, 10 + 20 * qy, 10 + 20 * qx, shown[qy][qx], 12);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(StoredWidth, OrientationTest, ::testing::Values(80, 1600));

TEST(PreprocessTest, ShrinkOnLoadKeepsTheGeometry) {
  // Red follows x, green follows y. A short side of 1600 lets the decoder shrink by 4.
  const int width = 2400, height = 1600;
  auto image = MakeImage(width, height, 3, VIPS_FORMAT_UCHAR, [&](int x, int y, int band) {
    return band == 0 ? x * 255 / (width - 1) : band == 1 ? y * 255 / (height - 1) : 128;
  });
  const Preprocessing p;
  auto tensor = Preprocessed(Encode(image.get(), ".jpg[Q=95]"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  // Resized to 384 x 256, cropped from (80, 16); each output pixel covers 6.25 input pixels.
  const double step = 1600.0 / 256;
  for (int y : {5, 100, 200}) {
    for (int x : {5, 112, 220}) {
      const double sx = (x + 80 + 0.5) * step - 0.5;
      const double sy = (y + 16 + 0.5) * step - 0.5;
      const Rgb want{static_cast<int>(std::lround(sx * 255 / (width - 1))),
                     static_cast<int>(std::lround(sy * 255 / (height - 1))), 128};
      ExpectColourNear(*tensor, y, x, want, 3);
    }
  }
}

TEST(PreprocessTest, SamplePhotosStayInTheNormalisedRange) {
  const Preprocessing p;
  Tensor tensor(p);
  for (const auto& path : SamplePhotos()) {
    SCOPED_TRACE(path.filename().string());
    auto done = Preprocess(ReadSample(path), p, kDefaultLimits, tensor.values);
    ASSERT_TRUE(done.has_value()) << done.error().message;
    const std::size_t plane = tensor.values.size() / 3;
    for (int c = 0; c < 3; ++c) {
      auto channel = std::span(tensor.values).subspan(c * plane, plane);
      auto [low, high] = std::ranges::minmax(channel);
      EXPECT_GE(low, Normalised(0, c, p));
      EXPECT_LE(high, Normalised(255, c, p));
      EXPECT_LT(low, high) << "a photo is not one flat colour";
    }
  }
}

TEST(PreprocessTest, DecodesEveryAcceptedFormat) {
  auto image = Solid(120, 90, 40, 160, 220);
  const Preprocessing p{.resize_short_side = 64, .crop_width = 64, .crop_height = 64};
  for (const char* suffix : {".jpg[Q=95]", ".png", ".webp[Q=95]", ".gif"}) {
    SCOPED_TRACE(suffix);
    auto tensor = Preprocessed(Encode(image.get(), suffix), p);
    ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
    ExpectColourNear(*tensor, 32, 32, {40, 160, 220}, 3);
  }
}

TEST(PreprocessTest, DecodesHeifAndAvifWhenAnEncoderIsInstalled) {
  auto image = Solid(120, 90, 40, 160, 220);
  const Preprocessing p{.resize_short_side = 64, .crop_width = 64, .crop_height = 64};
  int encoded = 0;
  for (const char* suffix : {".heic[Q=95]", ".avif[Q=95]"}) {
    auto bytes = Encode(image.get(), suffix);
    if (bytes.empty()) {
      continue;
    }
    ++encoded;
    auto tensor = Preprocessed(bytes, p);
    ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
    ExpectColourNear(*tensor, 32, 32, {40, 160, 220}, 4);
  }
  if (encoded == 0) {
    GTEST_SKIP() << "libheif has no HEVC or AV1 encoder plugin here, so no HEIC/AVIF can be made";
  }
}

TEST(PreprocessTest, ReplicatesGrey) {
  auto grey = MakeImage(50, 50, 1, VIPS_FORMAT_UCHAR, [](int, int, int) { return 100; });
  const Preprocessing p{.resize_short_side = 32, .crop_width = 32, .crop_height = 32};
  auto tensor = Preprocessed(Encode(grey.get(), ".png"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  for (int c = 0; c < 3; ++c) {
    ExpectChannelIs(*tensor, c, 100);
  }
}

TEST(PreprocessTest, FlattensTransparencyOntoWhite) {
  auto clear =
      MakeImage(50, 50, 4, VIPS_FORMAT_UCHAR, [](int, int, int b) { return b < 3 ? 9 : 0; });
  auto half =
      MakeImage(50, 50, 4, VIPS_FORMAT_UCHAR, [](int, int, int b) { return b < 3 ? 0 : 153; });
  auto clear_grey = MakeImage(50, 50, 2, VIPS_FORMAT_UCHAR, [](int, int, int) { return 0; });
  const Preprocessing p{.resize_short_side = 32, .crop_width = 32, .crop_height = 32};

  auto tensor = Preprocessed(Encode(clear.get(), ".png"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  for (int c = 0; c < 3; ++c) {
    ExpectChannelIs(*tensor, c, 255);
  }

  tensor = Preprocessed(Encode(half.get(), ".png"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  ExpectColourNear(*tensor, 16, 16, {102, 102, 102}, 1);  // 60 % black over white

  tensor = Preprocessed(Encode(clear_grey.get(), ".png"), p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  for (int c = 0; c < 3; ++c) {
    ExpectChannelIs(*tensor, c, 255);
  }
}

TEST(PreprocessTest, ReducesSixteenBitImagesToEightBits) {
  auto deep = MakeImage(50, 50, 3, VIPS_FORMAT_USHORT,
                        [](int, int, int b) { return std::array{0x8000, 0x2000, 0xff00}[b]; });
  VipsImage* tagged = nullptr;
  vips_copy(deep.get(), &tagged, "interpretation", VIPS_INTERPRETATION_RGB16, nullptr);
  auto png = Encode(testing::VipsImagePtr(tagged).get(), ".png");
  ASSERT_EQ(png[24], std::byte{16}) << "the PNG is not 16-bit";
  const Preprocessing p{.resize_short_side = 32, .crop_width = 32, .crop_height = 32};
  auto tensor = Preprocessed(png, p);
  ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
  ExpectColourNear(*tensor, 16, 16, {0x80, 0x20, 0xff}, 1);
}

TEST(PreprocessTest, ConvertsCmykToRgb) {
  auto Cmyk = [](int c, int m, int y, int k) {
    auto image = MakeImage(48, 48, 4, VIPS_FORMAT_UCHAR,
                           [&](int, int, int b) { return std::array{c, m, y, k}[b]; });
    VipsImage* tagged = nullptr;
    vips_copy(image.get(), &tagged, "interpretation", VIPS_INTERPRETATION_CMYK, nullptr);
    return Encode(testing::VipsImagePtr(tagged).get(), ".jpg[Q=95]");
  };
  const Preprocessing p{.resize_short_side = 32, .crop_width = 32, .crop_height = 32};

  auto paper = Preprocessed(Cmyk(0, 0, 0, 0), p);
  ASSERT_TRUE(paper.has_value()) << paper.error().message;
  ExpectColourNear(*paper, 16, 16, {255, 255, 255}, 12);

  auto cyan = Preprocessed(Cmyk(255, 0, 0, 0), p);
  ASSERT_TRUE(cyan.has_value()) << cyan.error().message;
  EXPECT_LT(cyan->At(0, 16, 16), Normalised(100, 0, p));
  EXPECT_GT(cyan->At(2, 16, 16), Normalised(180, 2, p));
}

TEST(PreprocessTest, HandlesAnySize) {
  const Preprocessing p;
  const std::pair<int, int> sizes[] = {{1, 1},     {1, 7},     {7, 1},      {2, 300},
                                       {300, 2},   {255, 257}, {257, 255},  {224, 224},
                                       {256, 256}, {333, 500}, {1023, 769}, {225, 1000}};
  for (const auto& [width, height] : sizes) {
    SCOPED_TRACE(::testing::Message() << width << " x " << height);
    auto tensor = Preprocessed(Encode(Solid(width, height, 30, 140, 220).get(), ".png"), p);
    ASSERT_TRUE(tensor.has_value()) << tensor.error().message;
    ExpectChannelIs(*tensor, 0, 30);
    ExpectChannelIs(*tensor, 1, 140);
    ExpectChannelIs(*tensor, 2, 220);
  }
}

TEST(PreprocessTest, HandlesElongatedImagesAndRefusesAbsurdOnes) {
  const Preprocessing p;
  auto strip = Preprocessed(Encode(Solid(1, 40'000, 30, 140, 220).get(), ".png"), p);
  ASSERT_TRUE(strip.has_value()) << strip.error().message;
  ExpectChannelIs(*strip, 1, 140);

  // A short side of 256 would make the long side 102,400,000 pixels, beyond what libvips
  // addresses.
  auto absurd = Preprocessed(Encode(Solid(400'000, 1, 30, 140, 220).get(), ".png"), p);
  ASSERT_FALSE(absurd.has_value());
  EXPECT_EQ(absurd.error().code, ErrorCode::kTooLarge);
}

TEST(PreprocessTest, ReportsATruncatedJpegAsCorrupt) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  bytes.resize(bytes.size() / 2);
  auto tensor = Preprocessed(bytes, Preprocessing{});
  ASSERT_FALSE(tensor.has_value());
  EXPECT_EQ(tensor.error().code, ErrorCode::kCorrupt);
}

// libjpeg fills the missing rows of a file cut short near its end with grey and reports no
// error, so the decoder alone would have classified it.
TEST(PreprocessTest, ReportsAJpegMissingOnlyItsEndMarkerAsCorrupt) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  bytes.resize(bytes.size() - 2);
  auto tensor = Preprocessed(bytes, Preprocessing{});
  ASSERT_FALSE(tensor.has_value());
  EXPECT_EQ(tensor.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(tensor.error().message.find("truncated"), std::string::npos) << tensor.error().message;
}

// libvips keeps one error buffer for the process, and some loaders leave messages in it
// when they succeed (the HEIF loader's seeks): an image's error names its own problem only.
TEST(PreprocessTest, AnErrorDoesNotCarryMessagesLeftByEarlierImages) {
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  ASSERT_TRUE(Preprocessed(bytes, Preprocessing{}).has_value());
  vips_error("heifload", "bad seek to 20922");  // as the HEIF loader leaves after a success
  bytes.resize(bytes.size() / 2);
  auto tensor = Preprocessed(bytes, Preprocessing{});
  ASSERT_FALSE(tensor.has_value());
  EXPECT_EQ(tensor.error().message.find("bad seek"), std::string::npos) << tensor.error().message;
}

// The services log JSON lines only: libvips's warnings about a damaged image go there too.
TEST(PreprocessTest, LibvipsWarningsCanGoToTheJsonLog) {
  LogVipsWarnings();
  // Cut short, but with its end marker: past the completeness check, the decoder warns and
  // fills the missing rows.
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  bytes.resize(bytes.size() / 2);
  bytes.insert(bytes.end(), {std::byte{0xFF}, std::byte{0xD9}});
  ::testing::internal::CaptureStderr();
  (void)Preprocessed(bytes, Preprocessing{});
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(logged.find("VIPS-WARNING"), std::string::npos) << logged;
  EXPECT_NE(logged.find("\"component\":\"vips\""), std::string::npos) << logged;
}

// libvips logs a decoder's warnings with the rest of its error buffer, where a success left
// them: each damaged image's warning line repeated those of every earlier one, up to 10 KB.
TEST(PreprocessTest, EachWarningLineHoldsOnlyItsOwnImagesWarnings) {
  LogVipsWarnings();
  auto bytes = ReadSample(SampleDir() / "n01440764_tench.JPEG");
  bytes.resize(bytes.size() / 2);
  bytes.insert(bytes.end(), {std::byte{0xFF}, std::byte{0xD9}});
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Preprocessed(bytes, Preprocessing{}).has_value());
  const std::string logged = ::testing::internal::GetCapturedStderr();
  std::vector<std::string> messages;
  for (const auto part : std::views::split(logged, '\n')) {
    const std::string_view line(part);
    if (line.contains("\"component\":\"vips\"")) {
      const std::size_t text = line.find("\"message\":\"") + 11;
      messages.emplace_back(line.substr(text, line.find('"', text) - text));
    }
  }
  // The same lines for each of the three images.
  ASSERT_EQ(messages.size() % 3, 0u) << logged;
  ASSERT_FALSE(messages.empty());
  const std::size_t per_image = messages.size() / 3;
  for (std::size_t i = per_image; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i], messages[i % per_image]) << i;
  }
}

// libheif's seek reports (on valid files too) named nothing a user could act on, and the
// next warning about another image carried them into the log.
TEST(PreprocessTest, SeekNoiseIsLeftOutOfMessagesAndTheLog) {
  EXPECT_EQ(internal::OneLineWithoutNoise("source: bad seek to 27599\nsource: bad seek to 27572\n"
                                          "heif: Security limit exceeded\n"),
            "heif: Security limit exceeded");
  EXPECT_EQ(internal::OneLineWithoutNoise("VipsJpeg: premature end\nVipsJpeg: premature end\n"
                                          "VipsJpeg: bad marker\nVipsJpeg: premature end\n"),
            "VipsJpeg: premature end; VipsJpeg: bad marker")
      << "each line once";
  LogVipsWarnings();
  ::testing::internal::CaptureStderr();
  g_log("VIPS", G_LOG_LEVEL_WARNING, "source: bad seek to 27599\nsource: bad seek to 27572\n");
  g_log("VIPS", G_LOG_LEVEL_WARNING, "read gave 1 warnings");
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(logged.find("bad seek"), std::string::npos) << logged;
  EXPECT_NE(logged.find("read gave 1 warnings"), std::string::npos) << logged;
}

TEST(PreprocessTest, ReportsATruncatedPngAsCorrupt) {
  auto bytes = Encode(MakeImage(300, 300, 3, VIPS_FORMAT_UCHAR,
                                [](int x, int y, int b) { return (x * 7 + y * 13 + b * 5) % 256; })
                          .get(),
                      ".png");
  bytes.resize(bytes.size() / 2);
  auto tensor = Preprocessed(bytes, Preprocessing{});
  ASSERT_FALSE(tensor.has_value());
  EXPECT_EQ(tensor.error().code, ErrorCode::kCorrupt);
}

TEST(PreprocessTest, AppliesTheHeaderChecks) {
  Tensor tensor{Preprocessing{}};
  auto code = [&](std::span<const std::byte> bytes) {
    auto done = Preprocess(bytes, tensor.p, kDefaultLimits, tensor.values);
    return done ? std::optional<ErrorCode>() : done.error().code;
  };
  EXPECT_EQ(code({}), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code(Bytes("plain text")), ErrorCode::kUnsupportedMedia);
  EXPECT_EQ(code(PngDeclaring(50'000, 50'000)), ErrorCode::kTooLarge);
}

TEST(PreprocessTest, RefusesACropLargerThanTheResizedShortSide) {
  const Preprocessing p{.resize_short_side = 200, .crop_width = 224, .crop_height = 224};
  auto tensor = Preprocessed(ReadSample(SampleDir() / "n01440764_tench.JPEG"), p);
  ASSERT_FALSE(tensor.has_value());
  EXPECT_EQ(tensor.error().code, ErrorCode::kInvalidArgument);
}

TEST(PreprocessTest, ConcurrentCallsGiveTheSameTensorsAsSequentialOnes) {
  auto paths = SamplePhotos();
  paths.resize(std::min<std::size_t>(paths.size(), 24));
  std::vector<std::vector<std::byte>> files;
  files.reserve(paths.size());
  for (const auto& path : paths) {
    files.push_back(ReadSample(path));
  }
  const Preprocessing p;
  std::vector<Tensor> sequential(files.size(), Tensor(p));
  for (std::size_t i = 0; i < files.size(); ++i) {
    ASSERT_TRUE(Preprocess(files[i], p, kDefaultLimits, sequential[i].values).has_value());
  }

  std::vector<Tensor> parallel(files.size(), Tensor(p));
  std::vector<int> ok(files.size());  // not vector<bool>: threads write neighbours
  {
    std::vector<std::jthread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (std::size_t i = t; i < files.size(); i += 4) {
          ok[i] = Preprocess(files[i], p, kDefaultLimits, parallel[i].values).has_value() ? 1 : 0;
        }
      });
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(ok[i], 1);
    EXPECT_EQ(parallel[i].values, sequential[i].values) << paths[i];
  }
}

}  // namespace
}  // namespace argus::image
