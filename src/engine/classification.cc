#include "engine/classification.h"

#include <algorithm>
#include <cstddef>
#include <numeric>

#include "common/ascii.h"
#include "common/json.h"
#include "engine/taxonomy.h"

namespace argus::engine {

Classification Interpret(std::span<const float> probabilities, const LabelSet& labels,
                         std::size_t top_k) {
  std::vector<std::size_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t k = std::min(top_k, order.size());
  // Quantised models often give classes equal scores; ties go to the lower class index, so
  // the top label does not depend on how many labels are asked for.
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      return probabilities[a] > probabilities[b] ||
                             (probabilities[a] == probabilities[b] && a < b);
                    });

  Classification result;
  for (std::size_t i = 0; i < k; ++i) {
    const Label& label = labels[order[i]];
    result.labels.push_back({label.wnid, label.name, probabilities[order[i]], label.parents});
  }

  const std::vector<std::size_t>& dogs = labels.dog_indices();
  if (!dogs.empty()) {
    const std::size_t best_dog =
        *std::ranges::max_element(dogs, {}, [&](std::size_t i) { return probabilities[i]; });
    float dog_total = 0.0f;
    for (std::size_t index : dogs) dog_total += probabilities[index];
    if (dog_total > 0.0f) {
      result.spirit_dog = {labels[best_dog].wnid, labels[best_dog].name,
                           probabilities[best_dog] / dog_total};
    }
  }
  return result;
}

std::vector<std::string> SearchTerms(const Classification& classification, float min_confidence) {
  std::vector<std::string> terms;
  auto add = [&](std::string_view term) {
    std::string lower = AsciiLowercase(term);
    if (std::ranges::find(terms, lower) == terms.end()) terms.push_back(std::move(lower));
  };
  for (std::size_t i = 0; i < classification.labels.size(); ++i) {
    const LabelScore& label = classification.labels[i];
    if (i > 0 && label.confidence < min_confidence) continue;
    add(label.name);
    // "crane (bird)" and "crane (machine)" are both cranes.
    if (const auto qualifier = label.name.find(" (");
        qualifier != std::string::npos && label.name.ends_with(')') && qualifier > 0) {
      add(std::string_view(label.name).substr(0, qualifier));
    }
    for (std::string_view parent : label.parents) add(parent);
    if (const auto offset = Taxonomy::OffsetOfWnid(label.wnid)) {
      for (std::string_view ancestor : Taxonomy::AncestorWordsOf(*offset)) add(ancestor);
    }
  }
  return terms;
}

std::vector<std::string> SearchTermsOfResultJson(std::string_view result_json,
                                                 float min_confidence) {
  Json::Value document;
  if (!ReadJson(result_json, document) || !document.isObject() || !document["labels"].isArray()) {
    return {};
  }
  // The parents are views into `document`, which outlives `classification`.
  Classification classification;
  for (const Json::Value& label : document["labels"]) {
    if (!label.isObject() || !label["name"].isString()) return {};
    LabelScore score{
        .wnid = label["wnid"].isString() ? label["wnid"].asString() : "",
        .name = label["name"].asString(),
        .confidence = label["confidence"].isNumeric() ? label["confidence"].asFloat() : 0.0f};
    // The categories of today's taxonomy, which may have gained some since the result was
    // stored (buses became vehicles), so that the index finds old photos by them too.
    if (const auto offset = Taxonomy::OffsetOfWnid(score.wnid)) {
      score.parents = Taxonomy::ParentsOf(*offset);
    } else {
      for (const Json::Value& parent : label["parents"]) {
        if (parent.isString()) score.parents.emplace_back(parent.asCString());
      }
    }
    classification.labels.push_back(std::move(score));
  }
  return SearchTerms(classification, min_confidence);
}

Json::Value ToJson(const Classification& classification) {
  Json::Value root(Json::objectValue);
  Json::Value& labels = root["labels"] = Json::Value(Json::arrayValue);
  for (const LabelScore& score : classification.labels) {
    Json::Value label(Json::objectValue);
    label["wnid"] = score.wnid;
    label["name"] = score.name;
    label["confidence"] = score.confidence;
    Json::Value& parents = label["parents"] = Json::Value(Json::arrayValue);
    for (std::string_view parent : score.parents) parents.append(std::string(parent));
    labels.append(std::move(label));
  }
  if (!classification.spirit_dog.wnid.empty()) {
    Json::Value& dog = root["spirit_dog"];
    dog["wnid"] = classification.spirit_dog.wnid;
    dog["name"] = classification.spirit_dog.name;
    dog["confidence"] = classification.spirit_dog.confidence;
  }
  return root;
}

}  // namespace argus::engine
