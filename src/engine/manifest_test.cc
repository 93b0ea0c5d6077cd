#include "engine/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::engine {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kValid = R"({
  "name": "tiny", "file": "m/tiny.onnx",
  "input": {"name": "data", "channels": "BGR", "width": 160, "height": 128},
  "output": {"name": "prob", "kind": "probabilities"},
  "preprocess": {"resize_short_side": 182, "scale": 1.0, "mean": [1, 2, 3], "std": [4, 5, 6]},
  "labels": {"synsets": "labels.txt", "names": "/abs/names.json"}
})";

TEST(ManifestTest, ParsesEveryField) {
  auto manifest = ParseManifest(kValid, "/models");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->name, "tiny");
  EXPECT_EQ(manifest->version, "tiny");
  EXPECT_EQ(manifest->model_file, "/models/m/tiny.onnx");
  EXPECT_EQ(manifest->input_name, "data");
  EXPECT_EQ(manifest->output_name, "prob");
  EXPECT_EQ(manifest->output_kind, OutputKind::kProbabilities);
  EXPECT_EQ(manifest->synsets_file, "/models/labels.txt");
  EXPECT_EQ(manifest->names_file, "/abs/names.json");
  const image::Preprocessing& p = manifest->preprocessing;
  EXPECT_EQ(p.channel_order, image::ChannelOrder::kBgr);
  EXPECT_EQ(p.crop_width, 160);
  EXPECT_EQ(p.crop_height, 128);
  EXPECT_EQ(p.resize_short_side, 182);
  EXPECT_EQ(p.scale, 1.0f);
  EXPECT_EQ(p.mean, (std::array<float, 3>{1, 2, 3}));
  EXPECT_EQ(p.std, (std::array<float, 3>{4, 5, 6}));
}

TEST(ManifestTest, DefaultsToTheImageNetTransform) {
  auto manifest = ParseManifest(R"({"name": "m", "file": "m.onnx",
      "input": {"name": "input"}, "output": {"name": "output"},
      "labels": {"synsets": "s.txt"}})",
                                "/a");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->output_kind, OutputKind::kLogits);
  EXPECT_EQ(manifest->preprocessing.resize_short_side, 256);
  EXPECT_EQ(manifest->preprocessing.crop_width, 224);
  EXPECT_TRUE(manifest->names_file.empty());
}

TEST(ManifestTest, ExplainsWhatIsWrong) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"[]", "not a JSON object"},
      {"{", "not a JSON object"},
      {R"({"name": "m"})", "needs an object \"input\""},
      {R"({"name": "m", "input": {"name": "i"}, "output": {"name": "o"},
           "labels": {"synsets": "s"}})",
       "manifest.file"},
      {R"({"name": "m", "file": "f", "input": {"name": "i", "layout": "NHWC"},
           "output": {"name": "o"}, "labels": {"synsets": "s"}})",
       "only NCHW"},
      {R"({"name": "m", "file": "f", "input": {"name": "i", "width": -3},
           "output": {"name": "o"}, "labels": {"synsets": "s"}})",
       "input.width"},
      {R"({"name": "m", "file": "f", "input": {"name": "i"}, "output": {"name": "o"},
           "preprocess": {"std": [1, 0, 1]}, "labels": {"synsets": "s"}})",
       "must not contain 0"},
      {R"({"name": "m", "file": "f", "input": {"name": "i"}, "output": {"name": "o"},
           "preprocess": {"mean": [1, 2]}, "labels": {"synsets": "s"}})",
       "preprocess.mean"},
      {R"({"name": "m", "file": "f", "input": {"name": "i"}, "output": {"name": "o", "kind": "x"},
           "labels": {"synsets": "s"}})",
       "output.kind"},
      {R"({"name": "m", "file": "f", "input": {"name": "i"}, "output": {"name": "o"},
           "preprocess": {"resize_short_side": 100}, "labels": {"synsets": "s"}})",
       "at least the input"},
  };
  for (const auto& [json, message] : cases) {
    auto manifest = ParseManifest(json, "/");
    ASSERT_FALSE(manifest) << json;
    EXPECT_EQ(manifest.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(manifest.error().message, HasSubstr(message)) << json;
  }
}

TEST(ManifestTest, BuiltinModelsResolveAgainstTheAssetsDirectory) {
  EXPECT_THAT(BuiltinModelNames(), ::testing::UnorderedElementsAre(
                                       "mobilenetv2-12-int8", "mobilenetv2-12-fp32-from-int8"));
  for (std::string_view name : BuiltinModelNames()) {
    auto manifest = LoadManifest(name, ARGUS_TEST_SHARED_DIR "/assets");
    ASSERT_TRUE(manifest) << manifest.error().message;
    EXPECT_EQ(manifest->name, name);
    EXPECT_TRUE(std::filesystem::exists(manifest->model_file)) << manifest->model_file;
    EXPECT_TRUE(std::filesystem::exists(manifest->synsets_file));
    EXPECT_TRUE(std::filesystem::exists(manifest->names_file));
  }
}

TEST(ManifestTest, ManifestFilesResolveAgainstTheirOwnFolder) {
  auto manifest = LoadManifest(ARGUS_TEST_SOURCE_DIR "/models/mobilenetv2-12-int8.json", "/unused");
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->model_file,
            std::filesystem::path(ARGUS_TEST_SOURCE_DIR "/models/models/mobilenetv2-12-int8.onnx"));
}

TEST(ManifestTest, UnknownModelsListTheBuiltinOnes) {
  auto manifest = LoadManifest("resnet-9000", "/unused");
  ASSERT_FALSE(manifest);
  EXPECT_EQ(manifest.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(manifest.error().message, HasSubstr("mobilenetv2-12-int8"));
}

}  // namespace
}  // namespace argus::engine
