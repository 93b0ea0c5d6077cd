#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "common/error.h"
#include "engine/classification.h"
#include "engine/label_set.h"
#include "engine/manifest.h"
#include "engine/onnx_model.h"
#include "image/limits.h"

namespace argus::engine {

// A model ready to classify: its manifest, ONNX session and labels.
class Classifier {
 public:
  static Result<std::unique_ptr<Classifier>> Create(const ModelManifest& manifest,
                                                    const EngineOptions& options);

  // Decodes one image into `tensor` (tensor_size() floats); safe to call from many threads.
  Result<void> Preprocess(std::span<const std::byte> bytes, const image::Limits& limits,
                          std::span<float> tensor) const;

  // Classifies `count` preprocessed images laid back to back in `tensors`, in one run.
  Result<std::vector<Classification>> Classify(std::span<const float> tensors, std::size_t count,
                                               std::size_t top_k) const;

  // Runs one batch of `batch_size` blank images through the model, so that the engine's
  // memory for batches up to that size is allocated and touched before real work arrives.
  Result<void> WarmUp(std::size_t batch_size) const;

  std::size_t tensor_size() const { return manifest_.preprocessing.TensorSize(); }
  const ModelManifest& manifest() const { return manifest_; }
  const LabelSet& labels() const { return labels_; }

 private:
  Classifier(ModelManifest manifest, std::unique_ptr<OnnxModel> model, LabelSet labels);

  ModelManifest manifest_;
  std::unique_ptr<OnnxModel> model_;
  LabelSet labels_;
};

}  // namespace argus::engine
