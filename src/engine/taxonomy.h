#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace argus::engine {

// Everyday categories (dog, bird, vehicle, ...) derived at build time from WordNet 3.0,
// whose noun offsets are the numeric part of ImageNet ids ("n02099601").
class Taxonomy {
 public:
  // All category names, from the most specific to the most general.
  static std::span<const std::string_view> Categories();

  // The categories a synset belongs to, in the order of Categories().
  static std::vector<std::string_view> ParentsOf(std::uint32_t wordnet_offset);

  static bool IsIn(std::uint32_t wordnet_offset, std::string_view category);

  // The words of a synset's WordNet ancestors below its nearest categories, lower-case and
  // nearest first: "spaniel", "sporting dog", "gun dog", "hunting dog" for a Brittany
  // spaniel, whose category "dog" names the rest, and the phrases of the categories' own
  // synsets ("domestic dog"). For a synset under no category, the ancestors up to the few
  // most general (entity, object, whole, ...). Never the name of a category the synset is
  // not in (another sense of the word). The names a person may search a label by, besides
  // its own and its categories'.
  static std::vector<std::string_view> AncestorWordsOf(std::uint32_t wordnet_offset);

  // "n02099601" -> 2099601; nullopt for anything that is not an ImageNet-style id.
  static std::optional<std::uint32_t> OffsetOfWnid(std::string_view wnid);
};

}  // namespace argus::engine
