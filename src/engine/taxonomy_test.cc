#include "engine/taxonomy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::engine {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string_view> ParentsOfWnid(std::string_view wnid) {
  const auto offset = Taxonomy::OffsetOfWnid(wnid);
  if (!offset) {
    ADD_FAILURE() << "unknown wnid " << wnid;
    return {};
  }
  return Taxonomy::ParentsOf(*offset);
}

TEST(TaxonomyTest, DogBreedsAreDogsMammalsAnimalsFromSpecificToGeneral) {
  EXPECT_THAT(ParentsOfWnid("n02099601"),
              ElementsAre("dog", "mammal", "animal"));  // golden retriever
  EXPECT_THAT(ParentsOfWnid("n02085620"), ElementsAre("dog", "mammal", "animal"));  // Chihuahua
}

TEST(TaxonomyTest, OtherFamiliesGetTheirOwnCategories) {
  EXPECT_THAT(ParentsOfWnid("n02123045"), ElementsAre("cat", "mammal", "animal"));  // tabby
  EXPECT_THAT(ParentsOfWnid("n02129165"), ElementsAre("cat", "mammal", "animal"));  // lion
  EXPECT_THAT(ParentsOfWnid("n01530575"), ElementsAre("bird", "animal"));           // brambling
  EXPECT_THAT(ParentsOfWnid("n01440764"), ElementsAre("fish", "animal"));           // tench
  EXPECT_THAT(ParentsOfWnid("n04285008"), ElementsAre("car", "vehicle"));           // sports car
  EXPECT_THAT(ParentsOfWnid("n07753592"), ElementsAre("fruit", "food"));            // banana
}

TEST(TaxonomyTest, WolvesAreNotDogs) {
  const auto wolf = Taxonomy::OffsetOfWnid("n02114367");  // timber wolf
  if (!wolf) FAIL() << "unknown wnid";
  EXPECT_FALSE(Taxonomy::IsIn(*wolf, "dog"));
  EXPECT_TRUE(Taxonomy::IsIn(*wolf, "mammal"));
}

TEST(TaxonomyTest, AncestorWordsNameTheWordNetHypernymsNearestFirst) {
  const auto brittany = Taxonomy::OffsetOfWnid("n02101388");  // Brittany spaniel
  if (!brittany) FAIL() << "unknown wnid";
  const std::vector<std::string_view> words = Taxonomy::AncestorWordsOf(*brittany);
  ASSERT_FALSE(words.empty());
  EXPECT_THAT(words, ElementsAre("spaniel", "sporting dog", "gun dog", "hunting dog"))
      << "the category dog names what is above";
  const auto tiger_shark = Taxonomy::OffsetOfWnid("n01491361");
  if (!tiger_shark) FAIL() << "unknown wnid";
  EXPECT_THAT(Taxonomy::AncestorWordsOf(*tiger_shark), Contains("shark"));
  const auto hotdog = Taxonomy::OffsetOfWnid("n07697537");  // hotdog, a sandwich
  if (!hotdog) FAIL() << "unknown wnid";
  EXPECT_THAT(Taxonomy::AncestorWordsOf(*hotdog), Not(Contains("dog")));
  EXPECT_THAT(Taxonomy::AncestorWordsOf(99999999), IsEmpty());
}

TEST(TaxonomyTest, UnknownSynsetsAndCategoriesHaveNoParents) {
  EXPECT_THAT(Taxonomy::ParentsOf(99999999), IsEmpty());
  const auto retriever = Taxonomy::OffsetOfWnid("n02099601");
  if (!retriever) FAIL() << "unknown wnid";
  EXPECT_FALSE(Taxonomy::IsIn(*retriever, "no such category"));
}

TEST(TaxonomyTest, CategoriesStartSpecificAndEndGeneral) {
  const auto categories = Taxonomy::Categories();
  ASSERT_GE(categories.size(), 15u);
  EXPECT_EQ(categories.front(), "dog");
  const auto position = [&](std::string_view name) {
    return std::find(categories.begin(), categories.end(), name) - categories.begin();
  };
  EXPECT_LT(position("dog"), position("mammal"));
  EXPECT_LT(position("mammal"), position("animal"));
  EXPECT_LT(position("car"), position("vehicle"));
}

TEST(TaxonomyTest, ParsesImageNetIds) {
  EXPECT_EQ(Taxonomy::OffsetOfWnid("n02099601"), 2099601u);
  EXPECT_EQ(Taxonomy::OffsetOfWnid("n0209960"), std::nullopt);
  EXPECT_EQ(Taxonomy::OffsetOfWnid("x02099601"), std::nullopt);
  EXPECT_EQ(Taxonomy::OffsetOfWnid("n0209960a"), std::nullopt);
  EXPECT_EQ(Taxonomy::OffsetOfWnid(""), std::nullopt);
}

}  // namespace
}  // namespace argus::engine
