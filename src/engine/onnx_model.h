#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/error.h"
#include "engine/manifest.h"

namespace argus::engine {

struct EngineOptions {
  int intra_op_threads = 0;  // 0: one per core
  // Spinning intra-op threads cut a lone request's latency but steal cores from
  // concurrent decoding; servers turn it off (see PLATFORM-NOTES).
  bool allow_spinning = true;
};

// One ONNX Runtime session for a model, created once per process and shared by threads
// (Run is thread-safe).
class OnnxModel {
 public:
  static Result<std::unique_ptr<OnnxModel>> Create(const ModelManifest& manifest,
                                                   const EngineOptions& options);
  ~OnnxModel();
  OnnxModel(const OnnxModel&) = delete;
  OnnxModel& operator=(const OnnxModel&) = delete;

  // `batch` holds `count` preprocessed images back to back (NCHW). Returns count x classes
  // class probabilities (softmax applied when the model outputs logits).
  Result<std::vector<float>> Run(std::span<const float> batch, std::size_t count) const;

  std::size_t class_count() const;
  std::size_t image_tensor_size() const;

 private:
  struct State;
  explicit OnnxModel(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace argus::engine
