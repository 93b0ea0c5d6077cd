#include "engine/taxonomy.h"

#include <algorithm>
#include <charconv>

namespace argus::engine {
namespace {

struct SynsetCategories {
  std::uint32_t offset;
  std::uint32_t mask;
};

#include "engine/taxonomy_table.inc"

std::uint32_t MaskOf(std::uint32_t offset) {
  const auto* it = std::lower_bound(
      std::begin(kSynsetCategories), std::end(kSynsetCategories), offset,
      [](const SynsetCategories& entry, std::uint32_t key) { return entry.offset < key; });
  return it != std::end(kSynsetCategories) && it->offset == offset ? it->mask : 0;
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
  const auto* it = std::find(std::begin(kCategoryNames), std::end(kCategoryNames), category);
  if (it == std::end(kCategoryNames)) return false;
  return MaskOf(wordnet_offset) & (1u << (it - std::begin(kCategoryNames)));
}

std::optional<std::uint32_t> Taxonomy::OffsetOfWnid(std::string_view wnid) {
  if (wnid.size() != 9 || wnid[0] != 'n') return std::nullopt;
  std::uint32_t offset = 0;
  const auto [end, error] = std::from_chars(wnid.data() + 1, wnid.data() + wnid.size(), offset);
  if (error != std::errc() || end != wnid.data() + wnid.size()) return std::nullopt;
  return offset;
}

}  // namespace argus::engine
