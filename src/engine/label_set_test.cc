#include "engine/label_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace argus::engine {
namespace {

const std::filesystem::path kLabels = ARGUS_TEST_SHARED_DIR "/assets/labels";

TEST(LabelSetTest, LoadsTheImageNetClassesWithDisplayNamesAndParents) {
  auto labels =
      LabelSet::Load(kLabels / "synset_words.txt", kLabels / "imagenet-simple-labels.json");
  ASSERT_TRUE(labels) << labels.error().message;
  ASSERT_EQ(labels->size(), 1000u);
  EXPECT_EQ((*labels)[0].wnid, "n01440764");
  EXPECT_EQ((*labels)[0].name, "tench");
  EXPECT_EQ((*labels)[207].name, "Golden Retriever");
  EXPECT_THAT((*labels)[207].parents, ::testing::ElementsAre("dog", "mammal", "animal"));
}

TEST(LabelSetTest, TheDogBreedsAreExactlyTheImageNetDogClasses) {
  auto labels = LabelSet::Load(kLabels / "synset_words.txt", "");
  ASSERT_TRUE(labels) << labels.error().message;
  std::vector<std::size_t> expected;
  for (std::size_t i = 151; i <= 268; ++i) expected.push_back(i);
  EXPECT_EQ(labels->dog_indices(), expected);
  EXPECT_EQ((*labels)[207].name, "golden retriever");  // first synonym without display names
}

class LabelSetFilesTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("argus-labels-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LabelSetFilesTest, RejectsMissingAndMalformedFiles) {
  auto missing = LabelSet::Load(dir_ / "none.txt", "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  auto malformed = LabelSet::Load(Write("bad.txt", "n01440764 tench\nnot-an-id fish\n"), "");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(malformed.error().message, ::testing::HasSubstr(":2:"));
}

TEST_F(LabelSetFilesTest, RejectsDisplayNamesThatDoNotMatchTheClasses) {
  const auto synsets = Write("s.txt", "n01440764 tench, Tinca tinca\nn02099601 golden retriever\n");
  auto too_few = LabelSet::Load(synsets, Write("n.json", R"(["tench"])"));
  ASSERT_FALSE(too_few);
  EXPECT_THAT(too_few.error().message, ::testing::HasSubstr("has 1 names but"));

  auto not_strings = LabelSet::Load(synsets, Write("m.json", R"(["tench", 3])"));
  ASSERT_FALSE(not_strings);

  auto ok = LabelSet::Load(synsets, Write("o.json", R"(["Tench", "Goldie"])"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)[1].name, "Goldie");
  EXPECT_EQ(ok->dog_indices(), std::vector<std::size_t>{1});
}

}  // namespace
}  // namespace argus::engine
