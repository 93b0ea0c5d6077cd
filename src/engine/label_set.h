#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace argus::engine {

struct Label {
  std::string wnid;                       // "n02099601"
  std::string name;                       // "golden retriever"
  std::vector<std::string_view> parents;  // "dog", "mammal", "animal"
  bool is_dog = false;
};

// The classes of a model's output, in output index order.
class LabelSet {
 public:
  // `synsets`: lines "n01440764 tench, Tinca tinca". `names` (optional, may be empty): a JSON
  // array of short display names in the same order; without it the first synonym is used.
  static Result<LabelSet> Load(const std::filesystem::path& synsets,
                               const std::filesystem::path& names);

  std::size_t size() const { return labels_.size(); }
  const Label& operator[](std::size_t index) const { return labels_[index]; }
  // Output indices of the dog breeds, for the spirit dog.
  const std::vector<std::size_t>& dog_indices() const { return dog_indices_; }

 private:
  std::vector<Label> labels_;
  std::vector<std::size_t> dog_indices_;
};

}  // namespace argus::engine
