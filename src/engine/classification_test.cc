#include "engine/classification.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <span>

namespace argus::engine {
namespace {

class ClassificationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::filesystem::path dir = ARGUS_TEST_SHARED_DIR "/assets/labels";
    labels_ = new LabelSet(
        LabelSet::Load(dir / "synset_words.txt", dir / "imagenet-simple-labels.json").value());
  }
  static void TearDownTestSuite() { delete labels_; }
  static LabelSet* labels_;
};
LabelSet* ClassificationTest::labels_ = nullptr;

TEST_F(ClassificationTest, ReportsTheTopKBestFirstWithParents) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[207] = 0.5f;  // golden retriever
  probabilities[208] = 0.2f;  // Labrador retriever
  probabilities[281] = 0.1f;  // tabby cat
  probabilities[0] = 0.05f;
  const Classification c = Interpret(probabilities, *labels_, 3);
  ASSERT_EQ(c.labels.size(), 3u);
  EXPECT_EQ(c.labels[0].wnid, "n02099601");
  EXPECT_EQ(c.labels[0].name, "Golden Retriever");
  EXPECT_FLOAT_EQ(c.labels[0].confidence, 0.5f);
  EXPECT_EQ(c.labels[1].wnid, "n02099712");
  EXPECT_EQ(c.labels[2].wnid, "n02123045");
  EXPECT_EQ(c.labels[2].parents, (std::vector<std::string_view>{"cat", "mammal", "animal"}));
}

TEST_F(ClassificationTest, TiedScoresGoToTheLowerClassWhateverTheTopK) {
  std::vector<float> probabilities(1000, 0.001f);
  for (std::size_t i : {900, 17, 555, 300}) probabilities[i] = 0.2f;
  for (std::size_t k : {1, 2, 3, 4, 5, 1000}) {
    const Classification c = Interpret(probabilities, *labels_, k);
    ASSERT_EQ(c.labels.size(), k);
    EXPECT_EQ(c.labels[0].wnid, (*labels_)[17].wnid) << "top-" << k;
    if (k >= 4) {
      EXPECT_EQ(c.labels[1].wnid, (*labels_)[300].wnid);
      EXPECT_EQ(c.labels[2].wnid, (*labels_)[555].wnid);
      EXPECT_EQ(c.labels[3].wnid, (*labels_)[900].wnid);
    }
  }
}

TEST_F(ClassificationTest, SpiritDogIsRenormalisedOverTheDogBreeds) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[281] = 0.9f;   // tabby cat wins overall
  probabilities[151] = 0.03f;  // Chihuahua
  probabilities[207] = 0.06f;  // golden retriever
  probabilities[269] = 0.01f;  // timber wolf: not a dog
  const Classification c = Interpret(probabilities, *labels_, 1);
  EXPECT_EQ(c.labels[0].wnid, "n02123045");
  EXPECT_EQ(c.spirit_dog.wnid, "n02099601");
  EXPECT_NEAR(c.spirit_dog.confidence, 0.06f / 0.09f, 1e-6);
}

TEST_F(ClassificationTest, SearchTermsCoverConfidentLabelsAndTheirCategories) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[207] = 0.6f;  // golden retriever
  probabilities[281] = 0.3f;  // tabby cat
  probabilities[0] = 0.05f;   // tench: not confident enough
  const auto terms = SearchTerms(Interpret(probabilities, *labels_, 5));
  // Each confident label's name, categories and WordNet ancestors, in that order.
  const std::vector<std::string> expected_start{"golden retriever", "dog", "mammal", "animal",
                                                "retriever"};
  ASSERT_GE(terms.size(), expected_start.size());
  EXPECT_TRUE(std::ranges::equal(std::span(terms).first(expected_start.size()), expected_start))
      << ::testing::PrintToString(terms);
  for (const char* term : {"sporting dog", "gun dog", "hunting dog", "tabby cat", "cat",
                           "domestic cat", "house cat"}) {
    EXPECT_TRUE(std::ranges::contains(terms, term)) << term;
  }
  for (const char* term : {"tench", "fish", "canine", "entity", "object", "whole"}) {
    EXPECT_FALSE(std::ranges::contains(terms, term)) << term;
  }
  EXPECT_EQ(std::set<std::string>(terms.begin(), terms.end()).size(), terms.size())
      << "no duplicates";
}

// "crane (bird)" and "crane (machine)" are both found as cranes.
TEST_F(ClassificationTest, AQualifiedLabelIsAlsoFoundByItsPlainName) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[134] = 0.7f;  // crane (bird)
  probabilities[517] = 0.2f;  // crane (machine)
  const auto terms = SearchTerms(Interpret(probabilities, *labels_, 5));
  for (const char* term : {"crane (bird)", "crane (machine)", "crane", "bird"}) {
    EXPECT_TRUE(std::ranges::contains(terms, term))
        << term << " " << ::testing::PrintToString(terms);
  }
  EXPECT_EQ(std::ranges::count(terms, "crane"), 1) << "each term once";
}

// A stored result gives the terms its classification gave: results stored before a change to
// SearchTerms are indexed again from their JSON.
TEST_F(ClassificationTest, SearchTermsOfAStoredResultAreThoseOfItsClassification) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[207] = 0.6f;  // golden retriever
  probabilities[281] = 0.3f;  // tabby cat
  probabilities[0] = 0.05f;   // tench: not confident enough
  const Classification classification = Interpret(probabilities, *labels_, 5);
  Json::Value stored = ToJson(classification);
  stored["id"] = "an image id";  // what workers add
  const auto terms = SearchTermsOfResultJson(stored.toStyledString());
  EXPECT_EQ(terms, SearchTerms(classification));
  EXPECT_TRUE(std::ranges::contains(terms, "retriever"));

  // Stored before buses were vehicles: indexed with the categories of the day.
  const auto minibus = SearchTermsOfResultJson(
      R"({"labels":[{"wnid":"n03769881","name":"minibus","confidence":0.7,"parents":[]}]})");
  EXPECT_TRUE(std::ranges::contains(minibus, "vehicle"));

  EXPECT_TRUE(SearchTermsOfResultJson("").empty());
  EXPECT_TRUE(SearchTermsOfResultJson("not json").empty());
  EXPECT_TRUE(SearchTermsOfResultJson(R"({"labels":[{"name":7}]})").empty());
  EXPECT_EQ(SearchTermsOfResultJson(R"({"labels":[{"name":"Thing","confidence":"high"}]})"),
            std::vector<std::string>{"thing"});
}

TEST_F(ClassificationTest, JsonHasTheDocumentedShape) {
  std::vector<float> probabilities(1000, 0.0f);
  probabilities[207] = 1.0f;
  const Json::Value json = ToJson(Interpret(probabilities, *labels_, 2));
  ASSERT_EQ(json["labels"].size(), 2u);
  EXPECT_EQ(json["labels"][0]["wnid"].asString(), "n02099601");
  EXPECT_EQ(json["labels"][0]["name"].asString(), "Golden Retriever");
  EXPECT_DOUBLE_EQ(json["labels"][0]["confidence"].asDouble(), 1.0);
  EXPECT_EQ(json["labels"][0]["parents"][0].asString(), "dog");
  EXPECT_EQ(json["spirit_dog"]["name"].asString(), "Golden Retriever");
  EXPECT_DOUBLE_EQ(json["spirit_dog"]["confidence"].asDouble(), 1.0);
}

}  // namespace
}  // namespace argus::engine
