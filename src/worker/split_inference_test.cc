#include "worker/split_inference.h"

#include <gtest/gtest.h>
#include <trantor/utils/ConcurrentTaskQueue.h>

#include <filesystem>
#include <format>
#include <memory>
#include <vector>

#include "engine/default_classifier_test.h"
#include "image/read_file.h"

namespace argus::worker {
namespace {

TEST(InferenceRunsTest, SplitsOnlyWhileDecodingTakesWellUnderTheModelsTime) {
  // 16 images at 2.5 ms each: one run would take 40 ms.
  EXPECT_EQ(InferenceRuns(16, 2, 20.0, 2.5), 2u);  // course photos after the uploads are in
  EXPECT_EQ(InferenceRuns(16, 2, 23.9, 2.5), 2u);
  EXPECT_EQ(InferenceRuns(16, 2, 24.0, 2.5), 1u);  // at kInferenceBound
  EXPECT_EQ(InferenceRuns(16, 2, 42.0, 2.5), 1u);  // 500 x 375 photos take as long to decode
  EXPECT_EQ(InferenceRuns(16, 4, 10.0, 2.5), 4u);
  EXPECT_EQ(InferenceRuns(3, 4, 1.0, 2.5), 3u);  // never more parts than images
}

TEST(InferenceRunsTest, NeverSplitsWithoutRoomOrAMeasureOrASecondImage) {
  EXPECT_EQ(InferenceRuns(16, 1, 1.0, 2.5), 1u);  // the engine threads have every core
  EXPECT_EQ(InferenceRuns(16, 2, 1.0, 0.0), 1u);  // no unsplit run measured yet
  EXPECT_EQ(InferenceRuns(1, 2, 0.1, 2.5), 1u);   // a lone image
}

class ClassifyInPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::filesystem::path shared = ARGUS_TEST_SHARED_DIR;
    auto classifier = engine::LoadDefaultClassifier(shared / "assets", {.intra_op_threads = 1});
    ASSERT_TRUE(classifier) << classifier.error().message;
    classifier_ = std::move(*classifier);
    tensors_.resize(kImages * classifier_->tensor_size());
    for (std::size_t i = 0; i < kImages; ++i) {
      auto bytes = image::ReadFile(
          shared / "data/cse546-imagenet-100" / std::format("test_{}.JPEG", i), 1 << 24);
      ASSERT_TRUE(bytes);
      ASSERT_TRUE(classifier_->Preprocess(
          *bytes, {},
          std::span(tensors_).subspan(i * classifier_->tensor_size(), classifier_->tensor_size())));
    }
  }

  static constexpr std::size_t kImages = 7;
  std::unique_ptr<engine::Classifier> classifier_;
  std::vector<float> tensors_;
  trantor::ConcurrentTaskQueue helpers_{3, "engine"};
};

TEST_F(ClassifyInPartsTest, GivesEachImageItsOwnResultInOrder) {
  auto whole = classifier_->Classify(tensors_, kImages, 5);
  ASSERT_TRUE(whole) << whole.error().message;
  for (std::size_t runs : {1u, 2u, 3u, 4u}) {
    auto parts = ClassifyInParts(*classifier_, tensors_, kImages, 5, runs, helpers_);
    ASSERT_TRUE(parts) << parts.error().message;
    ASSERT_EQ(parts->size(), kImages) << runs << " runs";
    for (std::size_t i = 0; i < kImages; ++i) {
      ASSERT_EQ((*parts)[i].labels.size(), (*whole)[i].labels.size());
      for (std::size_t k = 0; k < (*whole)[i].labels.size(); ++k) {
        EXPECT_EQ((*parts)[i].labels[k].wnid, (*whole)[i].labels[k].wnid)
            << "image " << i << ", " << runs << " runs";
        EXPECT_NEAR((*parts)[i].labels[k].confidence, (*whole)[i].labels[k].confidence, 1e-4);
      }
    }
  }
  // The seven photos are not all of one class, so an order mix-up would show.
  EXPECT_NE((*whole)[0].labels[0].wnid, (*whole)[6].labels[0].wnid);
}

}  // namespace
}  // namespace argus::worker
