#pragma once

#include <json/value.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/label_set.h"

namespace argus::engine {

struct LabelScore {
  std::string wnid;
  std::string name;
  float confidence = 0.0f;
  std::vector<std::string_view> parents;
};

// The dog breed a photo looks most like; confidence is renormalised over the dog classes.
struct SpiritDog {
  std::string wnid;
  std::string name;
  float confidence = 0.0f;
};

struct Classification {
  std::vector<LabelScore> labels;  // best first
  SpiritDog spirit_dog;
};

// Turns one image's class probabilities into its top-k labels and spirit dog.
Classification Interpret(std::span<const float> probabilities, const LabelSet& labels,
                         std::size_t top_k);

// Lowercased words a search should find the image by: the top label and any other label
// at least `min_confidence` sure, with their parent categories and ancestors' words; no
// duplicates.
std::vector<std::string> SearchTerms(const Classification& classification,
                                     float min_confidence = 0.1f);

// SearchTerms of a result stored as ToJson wrote it (labels with wnid, name, confidence and
// parents), for indexing stored results again when the rules of SearchTerms or the categories
// change: a label's categories are today's. Empty when the text is not such a result.
std::vector<std::string> SearchTermsOfResultJson(std::string_view result_json,
                                                 float min_confidence = 0.1f);

// The JSON shape shared by `argus classify --json` and the HTTP API:
// {"labels":[{"wnid","name","confidence","parents":[...]}], "spirit_dog":{...}}
Json::Value ToJson(const Classification& classification);

}  // namespace argus::engine
