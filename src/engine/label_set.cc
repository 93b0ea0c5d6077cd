#include "engine/label_set.h"

#include <json/json.h>

#include <fstream>
#include <sstream>

#include "engine/taxonomy.h"

namespace argus::engine {
namespace {

Result<std::vector<std::string>> ReadDisplayNames(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot read label names " + path.string());
  Json::CharReaderBuilder builder;
  Json::Value root;
  std::string errors;
  if (!Json::parseFromStream(builder, in, &root, &errors) || !root.isArray()) {
    return Fail(ErrorCode::kInvalidArgument,
                path.string() + ": expected a JSON array of strings " + errors);
  }
  std::vector<std::string> names;
  for (const auto& name : root) {
    if (!name.isString()) {
      return Fail(ErrorCode::kInvalidArgument, path.string() + ": label names must be strings");
    }
    names.push_back(name.asString());
  }
  return names;
}

}  // namespace

Result<LabelSet> LabelSet::Load(const std::filesystem::path& synsets,
                                const std::filesystem::path& names) {
  std::ifstream in(synsets);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot read labels " + synsets.string());
  LabelSet set;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    const std::string wnid = line.substr(0, space);
    const auto offset = Taxonomy::OffsetOfWnid(wnid);
    if (space == std::string::npos || !offset) {
      return Fail(ErrorCode::kInvalidArgument, synsets.string() + ":" +
                                                   std::to_string(line_number) +
                                                   ": expected \"n01440764 name, synonym\"");
    }
    Label label{.wnid = wnid,
                .name = line.substr(space + 1, line.find(',', space) - space - 1),
                .parents = Taxonomy::ParentsOf(*offset),
                .is_dog = Taxonomy::IsIn(*offset, "dog")};
    if (label.is_dog) set.dog_indices_.push_back(set.labels_.size());
    set.labels_.push_back(std::move(label));
  }
  if (set.labels_.empty())
    return Fail(ErrorCode::kInvalidArgument, synsets.string() + ": no labels");

  if (!names.empty()) {
    auto display_names = ReadDisplayNames(names);
    if (!display_names) return std::unexpected(display_names.error());
    if (display_names->size() != set.labels_.size()) {
      return Fail(ErrorCode::kInvalidArgument,
                  names.string() + " has " + std::to_string(display_names->size()) + " names but " +
                      synsets.string() + " has " + std::to_string(set.labels_.size()) + " classes");
    }
    for (std::size_t i = 0; i < set.labels_.size(); ++i) {
      set.labels_[i].name = std::move((*display_names)[i]);
    }
  }
  return set;
}

}  // namespace argus::engine
