#include "engine/taxonomy.h"

#include <algorithm>
#include <charconv>
#include <ranges>

namespace argus::engine {
namespace {

struct SynsetCategories {
  std::uint32_t offset;
  std::uint32_t mask;
};

struct HypernymEdge {
  std::uint32_t offset;
  std::uint32_t hypernym;
};

// Words as a plain pointer: a table of string_views made Clang evaluate the length of every
// literal at compile time, beyond its constant-evaluation step limit.
struct SynsetWords {
  std::uint32_t offset;
  const char* words;  // separated by '|'
};

#include "engine/taxonomy_table.inc"

std::uint32_t MaskOf(std::uint32_t offset) {
  const auto* it = std::lower_bound(
      std::begin(kSynsetCategories), std::end(kSynsetCategories), offset,
      [](const SynsetCategories& entry, std::uint32_t key) { return entry.offset < key; });
  return it != std::end(kSynsetCategories) && it->offset == offset ? it->mask : 0;
}

// Hypernym edges a search does not follow: WordNet files wheeled vehicles under "container"
// too, and a search for containers found tow trucks, bicycles and locomotives.
constexpr HypernymEdge kEdgesNotFollowed[] = {{4576211u, 3094503u}};  // wheeled vehicle

// The bit of the category named `name` in a synset's mask; 0 for a name no category has.
std::uint32_t CategoryBit(std::string_view name) {
  const auto* it = std::find(std::begin(kCategoryNames), std::end(kCategoryNames), name);
  return it == std::end(kCategoryNames) ? 0 : 1u << (it - std::begin(kCategoryNames));
}

// A word that names a category the synset is not in is another sense of it: "plant" of
// "industrial plant" above a sawmill, "car" of "railcar" above a freight car.
bool NamesAnotherCategory(std::string_view word, std::uint32_t categories) {
  const std::uint32_t bit = CategoryBit(word);
  return bit != 0 && (categories & bit) == 0;
}

}  // namespace

std::span<const std::string_view> Taxonomy::Categories() { return kCategoryNames; }

std::vector<std::string_view> Taxonomy::ParentsOf(std::uint32_t wordnet_offset) {
  const std::uint32_t mask = MaskOf(wordnet_offset);
  std::vector<std::string_view> parents;
  for (std::size_t bit = 0; bit < std::size(kCategoryNames); ++bit) {
    if (mask & (1u << bit)) parents.push_back(kCategoryNames[bit]);
  }
  return parents;
}

bool Taxonomy::IsIn(std::uint32_t wordnet_offset, std::string_view category) {
  return (MaskOf(wordnet_offset) & CategoryBit(category)) != 0;
}

std::vector<std::string_view> Taxonomy::AncestorWordsOf(std::uint32_t wordnet_offset) {
  const std::uint32_t categories = MaskOf(wordnet_offset);
  std::vector<std::string_view> words;
  std::vector<std::uint32_t> seen;
  std::vector<std::uint32_t> level{wordnet_offset};
  while (!level.empty()) {
    std::vector<std::uint32_t> next;
    for (std::uint32_t offset : level) {
      const auto edges =
          std::ranges::equal_range(kHypernymEdges, offset, {}, &HypernymEdge::offset);
      for (const HypernymEdge& edge : edges) {
        if (std::ranges::contains(seen, edge.hypernym)) continue;
        seen.push_back(edge.hypernym);
        if (std::ranges::any_of(kEdgesNotFollowed, [&edge](const HypernymEdge& skipped) {
              return skipped.offset == edge.offset && skipped.hypernym == edge.hypernym;
            })) {
          continue;
        }
        // A category's synset ends the walk, its name covering what is above; of its own
        // words only phrases are kept ("public transport", "musical instrument", "domestic
        // dog"), its single words being a category's name or another sense ("machine" of
        // "car").
        const bool root = std::ranges::binary_search(kCategoryRoots, edge.hypernym);
        if (!root) next.push_back(edge.hypernym);
        const auto* named =
            std::ranges::lower_bound(kHypernymWords, edge.hypernym, {}, &SynsetWords::offset);
        if (named == std::end(kHypernymWords) || named->offset != edge.hypernym) continue;
        for (const auto word : std::views::split(std::string_view(named->words), '|')) {
          const std::string_view text(word.begin(), word.end());
          if (root && !text.contains(' ')) continue;
          if (!NamesAnotherCategory(text, categories)) words.push_back(text);
        }
      }
    }
    level = std::move(next);
  }
  return words;
}

std::optional<std::uint32_t> Taxonomy::OffsetOfWnid(std::string_view wnid) {
  if (wnid.size() != 9 || wnid[0] != 'n') return std::nullopt;
  std::uint32_t offset = 0;
  const auto [end, error] = std::from_chars(wnid.data() + 1, wnid.data() + wnid.size(), offset);
  if (error != std::errc() || end != wnid.data() + wnid.size()) return std::nullopt;
  return offset;
}

}  // namespace argus::engine
