#include "engine/classifier.h"

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "image/read_file.h"

namespace argus::engine {
namespace {

const std::filesystem::path kAssets = ARGUS_TEST_SHARED_DIR "/assets";
const std::filesystem::path kSamples = ARGUS_TEST_SHARED_DIR "/data/imagenet-sample";

std::unique_ptr<Classifier> Make(std::string_view model) {
  auto manifest = LoadManifest(model, kAssets);
  EXPECT_TRUE(manifest) << manifest.error().message;
  auto classifier = Classifier::Create(*manifest, {.intra_op_threads = 2});
  EXPECT_TRUE(classifier) << classifier.error().message;
  return classifier ? std::move(*classifier) : nullptr;
}

std::vector<float> Decode(const Classifier& classifier, const std::string& file) {
  std::vector<float> tensor(classifier.tensor_size());
  auto bytes = image::ReadFile(kSamples / file, 1 << 24);
  EXPECT_TRUE(bytes);
  auto status = classifier.Preprocess(*bytes, {}, tensor);
  EXPECT_TRUE(status) << status.error().message;
  return tensor;
}

class ClassifierTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ClassifierTest, RecognisesRealPhotos) {
  auto classifier = Make(GetParam());
  ASSERT_TRUE(classifier);
  // labels.tsv: file, class index, wnid; check a golden retriever and a tench among others.
  std::ifstream labels(kSamples / "labels.tsv");
  std::string file, wnid;
  int index = 0;
  std::size_t correct = 0, total = 0;
  while (labels >> file >> index >> wnid && total < 20) {
    const auto tensor = Decode(*classifier, file);
    auto result = classifier->Classify(tensor, 1, 5);
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_EQ(result->size(), 1u);
    const auto& top = (*result)[0].labels;
    ASSERT_EQ(top.size(), 5u);
    for (std::size_t i = 1; i < top.size(); ++i)
      EXPECT_GE(top[i - 1].confidence, top[i].confidence);
    correct += std::ranges::any_of(top, [&](const LabelScore& l) { return l.wnid == wnid; });
    ++total;
  }
  EXPECT_EQ(total, 20u);
  EXPECT_GE(correct, 17u) << "top-5 hits among the first 20 sample photos";
}

TEST_P(ClassifierTest, BatchedAndSingleRunsAgree) {
  auto classifier = Make(GetParam());
  ASSERT_TRUE(classifier);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  const std::size_t count = 8;
  std::vector<float> batch(count * classifier->tensor_size());
  for (float& v : batch) v = value(random);

  auto together = classifier->Classify(batch, count, 3);
  ASSERT_TRUE(together) << together.error().message;
  ASSERT_EQ(together->size(), count);
  for (std::size_t i = 0; i < count; ++i) {
    auto alone = classifier->Classify(
        std::span(batch).subspan(i * classifier->tensor_size(), classifier->tensor_size()), 1, 3);
    ASSERT_TRUE(alone);
    EXPECT_EQ((*alone)[0].labels[0].wnid, (*together)[i].labels[0].wnid);
    EXPECT_NEAR((*alone)[0].labels[0].confidence, (*together)[i].labels[0].confidence, 1e-3);
  }
}

TEST_P(ClassifierTest, WarmingUpLeavesResultsAsTheyWere) {
  auto cold = Make(GetParam());
  auto warm = Make(GetParam());
  ASSERT_TRUE(cold && warm);
  ASSERT_TRUE(warm->WarmUp(16));
  const std::vector<float> tensor = Decode(*cold, "n02099712_Labrador_retriever.JPEG");
  auto from_cold = cold->Classify(tensor, 1, 3);
  auto from_warm = warm->Classify(tensor, 1, 3);
  ASSERT_TRUE(from_cold && from_warm);
  EXPECT_EQ((*from_warm)[0].labels[0].wnid, (*from_cold)[0].labels[0].wnid);
  EXPECT_NEAR((*from_warm)[0].labels[0].confidence, (*from_cold)[0].labels[0].confidence, 1e-5);
}

TEST_P(ClassifierTest, ProbabilitiesSumToOne) {
  auto classifier = Make(GetParam());
  ASSERT_TRUE(classifier);
  const auto tensor = Decode(*classifier, "n01440764_tench.JPEG");
  auto result = classifier->Classify(tensor, 1, 1000);
  ASSERT_TRUE(result);
  float sum = 0.0f;
  for (const auto& label : (*result)[0].labels) sum += label.confidence;
  EXPECT_NEAR(sum, 1.0f, 1e-3);
  EXPECT_EQ((*result)[0].labels[0].wnid, "n01440764");
}

INSTANTIATE_TEST_SUITE_P(BothModels, ClassifierTest,
                         ::testing::Values("mobilenetv2-12-int8", "mobilenetv2-12-fp32-from-int8"));

// CPU seconds of this process so far, all threads.
double ProcessCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// Spinning engine threads wait for work between a run's operators, not between runs: a lone
// worker waiting for its next request must leave the cores to decoding and the web tier.
TEST(ClassifierSpinningTest, ThreadsStopSpinningWhenARunEnds) {
  auto manifest = LoadManifest("mobilenetv2-12-int8", kAssets);
  ASSERT_TRUE(manifest) << manifest.error().message;
  auto classifier = Classifier::Create(*manifest, {.intra_op_threads = 2, .allow_spinning = true});
  ASSERT_TRUE(classifier) << classifier.error().message;
  const std::vector<float> tensor((*classifier)->tensor_size(), 0.5F);
  ASSERT_TRUE((*classifier)->Classify(tensor, 1, 1));
  const double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Spinning on after the run, a thread took 27 ms of the 100 (0.08 ms when it stops).
  const double idle_cpu = ProcessCpuSeconds() - before;
  EXPECT_LT(idle_cpu, 0.010) << "CPU seconds spent in a tenth of a second without work";
}

TEST(ClassifierErrorsTest, MissingModelFileIsReportedWithTheSettingToFix) {
  auto manifest = LoadManifest("mobilenetv2-12-int8", "/nonexistent-assets");
  ASSERT_TRUE(manifest);
  auto classifier = Classifier::Create(*manifest, {});
  ASSERT_FALSE(classifier);
  // Labels are read first, so the missing assets are reported through them.
  EXPECT_EQ(classifier.error().code, ErrorCode::kNotFound);
}

TEST(ClassifierErrorsTest, ManifestThatDoesNotMatchTheModelIsRefused) {
  auto manifest = LoadManifest("mobilenetv2-12-int8", kAssets);
  ASSERT_TRUE(manifest);
  manifest->input_name = "pixels";
  auto classifier = Classifier::Create(*manifest, {});
  ASSERT_FALSE(classifier);
  EXPECT_NE(classifier.error().message.find("\"pixels\""), std::string::npos)
      << classifier.error().message;

  manifest = LoadManifest("mobilenetv2-12-int8", kAssets);
  manifest->preprocessing.crop_width = 200;
  classifier = Classifier::Create(*manifest, {});
  ASSERT_FALSE(classifier);
  EXPECT_NE(classifier.error().message.find("shape"), std::string::npos);
}

// A manifest calling the model's logits probabilities gave confidences such as 1953.8 %.
TEST(ClassifierErrorsTest, LogitsTakenForProbabilitiesAreAnErrorNamingTheSetting) {
  auto manifest = LoadManifest("mobilenetv2-12-int8", kAssets);
  ASSERT_TRUE(manifest);
  ASSERT_EQ(manifest->output_kind, OutputKind::kLogits);
  manifest->output_kind = OutputKind::kProbabilities;
  auto classifier = Classifier::Create(*manifest, {.intra_op_threads = 1});
  ASSERT_TRUE(classifier) << classifier.error().message;
  const auto tensor = Decode(**classifier, "n01440764_tench.JPEG");
  const auto result = (*classifier)->Classify(tensor, 1, 5);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("output.kind should be \"logits\""), std::string::npos)
      << result.error().message;
}

TEST(ClassifierErrorsTest, NotAModelFileIsAnErrorNotACrash) {
  auto manifest = LoadManifest("mobilenetv2-12-int8", kAssets);
  ASSERT_TRUE(manifest);
  manifest->model_file = kAssets / "labels" / "synset_words.txt";
  auto classifier = Classifier::Create(*manifest, {});
  ASSERT_FALSE(classifier);
  EXPECT_EQ(classifier.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace argus::engine
