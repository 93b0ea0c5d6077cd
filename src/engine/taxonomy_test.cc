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
  EXPECT_THAT(words, ElementsAre("spaniel", "sporting dog", "gun dog", "hunting dog",
                                 "domestic dog", "canis familiaris"))
      << "the category dog names what is above, and its synset's phrases";
  const auto tiger_shark = Taxonomy::OffsetOfWnid("n01491361");
  if (!tiger_shark) FAIL() << "unknown wnid";
  EXPECT_THAT(Taxonomy::AncestorWordsOf(*tiger_shark), Contains("shark"));
  const auto hotdog = Taxonomy::OffsetOfWnid("n07697537");  // hotdog, a sandwich
  if (!hotdog) FAIL() << "unknown wnid";
  EXPECT_THAT(Taxonomy::AncestorWordsOf(*hotdog), Not(Contains("dog")));
  EXPECT_THAT(Taxonomy::AncestorWordsOf(99999999), IsEmpty());
}

// Words of another sense: WordNet's "plant" above a sawmill is an industrial plant, its "car"
// above a freight car a railcar, and it files wheeled vehicles under "container" too. A
// label's other parents outside its categories still count (a paintbrush is a brush).
TEST(TaxonomyTest, AncestorWordsKeepToTheirSense) {
  const auto words_of = [](std::string_view wnid) {
    const auto offset = Taxonomy::OffsetOfWnid(wnid);
    if (!offset) ADD_FAILURE() << "unknown wnid " << wnid;
    return offset ? Taxonomy::AncestorWordsOf(*offset) : std::vector<std::string_view>{};
  };
  const std::vector<std::string_view> sawmill = words_of("n03697007");
  EXPECT_THAT(sawmill, Contains("industrial plant"));
  EXPECT_THAT(sawmill, Not(Contains("plant")));
  const std::vector<std::string_view> freight_car = words_of("n03393912");
  EXPECT_THAT(freight_car, Contains("railcar"));
  EXPECT_THAT(freight_car, Not(Contains("car")));
  const std::vector<std::string_view> tow_truck = words_of("n04461696");
  EXPECT_THAT(tow_truck, Contains("truck"));
  EXPECT_THAT(tow_truck, Not(Contains("container")));
  EXPECT_THAT(words_of("n03876231"), Contains("brush"));      // paintbrush
  EXPECT_THAT(words_of("n04557648"), Contains("container"));  // water bottle
  // The phrases of a category's own synset: buses under "public transport".
  EXPECT_THAT(words_of("n03769881"), Contains("public transport"));  // minibus
  EXPECT_THAT(words_of("n02099601"), Contains("domestic dog"));      // golden retriever
  EXPECT_THAT(words_of("n04285008"), Not(Contains("machine")))
      << "a car's single words are other senses";
}

TEST(TaxonomyTest, PeopleBusesTrainsAndAppliancesHaveCategories) {
  EXPECT_THAT(ParentsOfWnid("n03769881"), Contains("vehicle"));         // minibus
  EXPECT_THAT(ParentsOfWnid("n02917067"), Contains("vehicle"));         // high-speed train
  EXPECT_THAT(ParentsOfWnid("n10148035"), ElementsAre("person"));       // bridegroom
  EXPECT_THAT(ParentsOfWnid("n04070727"), ElementsAre("appliance"));    // refrigerator
  EXPECT_THAT(ParentsOfWnid("n03584254"), ElementsAre("electronics"));  // iPod
  EXPECT_THAT(ParentsOfWnid("n04254680"), Contains("sports"));          // soccer ball
  EXPECT_THAT(ParentsOfWnid("n09472597"), ElementsAre("landform"));     // volcano
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
