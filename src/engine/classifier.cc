#include "engine/classifier.h"

#include "image/preprocess.h"
#include "image/vips_init.h"

namespace argus::engine {

Classifier::Classifier(ModelManifest manifest, std::unique_ptr<OnnxModel> model, LabelSet labels)
    : manifest_(std::move(manifest)), model_(std::move(model)), labels_(std::move(labels)) {}

Result<std::unique_ptr<Classifier>> Classifier::Create(const ModelManifest& manifest,
                                                       const EngineOptions& options) {
  auto labels = LabelSet::Load(manifest.synsets_file, manifest.names_file);
  if (!labels) return std::unexpected(labels.error());
  auto model = OnnxModel::Create(manifest, options);
  if (!model) return std::unexpected(model.error());
  if ((*model)->class_count() != labels->size()) {
    return Fail(ErrorCode::kInvalidArgument,
                manifest.name + ": the model has " + std::to_string((*model)->class_count()) +
                    " classes but its labels file has " + std::to_string(labels->size()));
  }
  image::InitializeVips();
  return std::unique_ptr<Classifier>(
      new Classifier(manifest, std::move(*model), std::move(*labels)));
}

Result<void> Classifier::Preprocess(std::span<const std::byte> bytes, const image::Limits& limits,
                                    std::span<float> tensor) const {
  return image::Preprocess(bytes, manifest_.preprocessing, limits, tensor);
}

Result<std::vector<Classification>> Classifier::Classify(std::span<const float> tensors,
                                                         std::size_t count,
                                                         std::size_t top_k) const {
  auto probabilities = model_->Run(tensors, count);
  if (!probabilities) return std::unexpected(probabilities.error());
  std::vector<Classification> results;
  results.reserve(count);
  const std::size_t classes = labels_.size();
  for (std::size_t i = 0; i < count; ++i) {
    results.push_back(
        Interpret(std::span(*probabilities).subspan(i * classes, classes), labels_, top_k));
  }
  return results;
}

Result<void> Classifier::WarmUp(std::size_t batch_size) const {
  const std::vector<float> blank(batch_size * tensor_size(), 0.0f);
  auto probabilities = model_->Run(blank, batch_size);
  if (!probabilities) return std::unexpected(probabilities.error());
  return {};
}

}  // namespace argus::engine
