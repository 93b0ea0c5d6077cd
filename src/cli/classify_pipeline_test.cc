#include "cli/classify_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "engine/default_classifier_test.h"

namespace argus::cli {
namespace {

const std::filesystem::path kSamples = ARGUS_TEST_SHARED_DIR "/data/imagenet-sample";

class ClassifyPipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto classifier =
        engine::LoadDefaultClassifier(ARGUS_TEST_SHARED_DIR "/assets", {.allow_spinning = false});
    ASSERT_TRUE(classifier) << classifier.error().message;
    classifier_ = std::move(*classifier);
  }
  static void TearDownTestSuite() { classifier_.reset(); }

  std::vector<FileResult> Run(std::span<const std::filesystem::path> files,
                              PipelineOptions options) {
    std::vector<FileResult> results;
    ClassifyFiles(*classifier_, files, options,
                  [&](FileResult&& r) { results.push_back(std::move(r)); });
    return results;
  }

  static std::unique_ptr<engine::Classifier> classifier_;
};
std::unique_ptr<engine::Classifier> ClassifyPipelineTest::classifier_;

// The accuracy bar of the default model on the 500 labelled sample photos.
TEST_F(ClassifyPipelineTest, ReachesTheExpectedAccuracyOnTheLabelledPhotos) {
  std::ifstream tsv(kSamples / "labels.tsv");
  std::map<std::filesystem::path, std::pair<int, std::string>> truth;
  std::vector<std::filesystem::path> files;
  std::string file, wnid;
  int index = 0;
  while (tsv >> file >> index >> wnid) {
    files.push_back(kSamples / file);
    truth[files.back()] = {index, wnid};
  }
  ASSERT_EQ(files.size(), 500u);

  std::size_t top1 = 0, top5 = 0, dogs = 0, dog_top1_is_dog = 0;
  const auto results = Run(files, {.max_batch = 16, .top_k = 5});
  ASSERT_EQ(results.size(), files.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const FileResult& r = results[i];
    ASSERT_EQ(r.file, files[i]) << "results come back in input order";
    ASSERT_TRUE(r.classification) << r.file << ": " << r.classification.error().message;
    const auto& [class_index, expected] = truth[r.file];
    const auto& labels = r.classification->labels;
    top1 += labels[0].wnid == expected;
    top5 += std::ranges::any_of(labels, [&](const auto& l) { return l.wnid == expected; });
    if (class_index >= 151 && class_index <= 268) {
      ++dogs;
      dog_top1_is_dog += !labels[0].parents.empty() && labels[0].parents[0] == "dog";
    }
  }
  const double n = static_cast<double>(results.size());
  const double top1_rate = static_cast<double>(top1) / n;
  const double top5_rate = static_cast<double>(top5) / n;
  RecordProperty("top1", std::to_string(top1_rate));
  RecordProperty("top5", std::to_string(top5_rate));
  EXPECT_GE(top1_rate, 0.80) << top1 << " of 500 top-1";
  EXPECT_GE(top5_rate, 0.94) << top5 << " of 500 top-5";
  ASSERT_GT(dogs, 50u);
  EXPECT_GE(static_cast<double>(dog_top1_is_dog) / dogs, 0.95)
      << dog_top1_is_dog << " of " << dogs << " dog photos have a dog breed as top-1";
}

TEST_F(ClassifyPipelineTest, BadFilesFailAloneAndKeepTheirPlace) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-pipeline-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "empty.jpg").flush();
  std::ofstream(dir / "notes.jpg") << "this is text, not a photo";
  std::vector<std::filesystem::path> files{kSamples / "n01440764_tench.JPEG", dir / "empty.jpg",
                                           dir / "notes.jpg", dir / "missing.jpg",
                                           kSamples / "n02099712_Labrador_retriever.JPEG"};
  for (std::size_t batch : {1u, 2u, 16u}) {
    const auto results = Run(files, {.max_batch = batch, .decode_threads = 2, .top_k = 1});
    ASSERT_EQ(results.size(), files.size());
    for (std::size_t i = 0; i < files.size(); ++i) EXPECT_EQ(results[i].file, files[i]);
    ASSERT_TRUE(results[0].classification);
    EXPECT_EQ(results[0].classification->labels[0].wnid, "n01440764");
    EXPECT_FALSE(results[1].classification);
    EXPECT_FALSE(results[2].classification);
    EXPECT_EQ(results[2].classification.error().code, ErrorCode::kUnsupportedMedia);
    EXPECT_FALSE(results[3].classification);
    EXPECT_EQ(results[3].classification.error().code, ErrorCode::kNotFound);
    ASSERT_TRUE(results[4].classification);
    EXPECT_EQ(results[4].classification->spirit_dog.wnid, "n02099712");
  }
  std::filesystem::remove_all(dir);
}

TEST_F(ClassifyPipelineTest, NoFilesMeansNoResults) { EXPECT_TRUE(Run({}, {}).empty()); }

TEST(CollectImageFilesTest, WalksDirectoriesRecursivelyForImagesOnly) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("argus-collect-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "a" / "b");
  for (const char* name : {"a/b/z.JPG", "a/x.png", "a/readme.txt", "c.webp"}) {
    std::ofstream(dir / name) << "x";
  }
  const std::vector<std::string> arguments{dir.string(), (dir / "named.txt").string()};
  auto files = CollectImageFiles(arguments);
  ASSERT_TRUE(files);
  EXPECT_EQ(*files, (std::vector<std::filesystem::path>{dir / "a/b/z.JPG", dir / "a/x.png",
                                                        dir / "c.webp", dir / "named.txt"}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::cli
