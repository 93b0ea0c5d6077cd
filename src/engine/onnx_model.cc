#include "engine/onnx_model.h"

#include <onnxruntime_cxx_api.h>
#include <onnxruntime_session_options_config_keys.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <format>
#include <iostream>
#include <mutex>
#include <numeric>
#include <span>
#include <string>
#include <thread>

namespace argus::engine {
namespace {

// Debian's ONNX Runtime registers its operator schemas twice (once more through libonnx)
// and prints about 1,100 "Schema error: Trying to register schema ..." lines on stderr
// while the first environment and session come up. Capture stderr meanwhile and pass on
// everything that is not that noise, so real errors still reach the user.
class StderrFilter {
 public:
  StderrFilter() {
    std::fflush(stderr);
    std::cerr.flush();
    capture_ = std::tmpfile();
    saved_fd_ = capture_ ? dup(STDERR_FILENO) : -1;
    if (saved_fd_ >= 0) dup2(fileno(capture_), STDERR_FILENO);
  }
  ~StderrFilter() {
    if (saved_fd_ < 0) {
      if (capture_) std::fclose(capture_);
      return;
    }
    std::fflush(stderr);
    std::cerr.flush();
    dup2(saved_fd_, STDERR_FILENO);
    close(saved_fd_);
    if (std::fseek(capture_, 0, SEEK_SET) == 0) {
      char line[4096];
      while (std::fgets(line, sizeof line, capture_)) {
        if (!IsNoise(line)) std::fputs(line, stderr);
      }
    }
    std::fclose(capture_);
  }
  StderrFilter(const StderrFilter&) = delete;
  StderrFilter& operator=(const StderrFilter&) = delete;

 private:
  static bool IsNoise(std::string_view line) {
    return line.find("Schema error: Trying to register schema") != std::string_view::npos ||
           line.starts_with("  ") || line == "\n";
  }
  std::FILE* capture_ = nullptr;
  int saved_fd_ = -1;
};

std::mutex environment_mutex;

Ort::Env& Environment() {
  static Ort::Env* environment = [] {
    StderrFilter filter;
    return new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "argus");
  }();
  return *environment;
}

bool first_session_created = false;

void SoftmaxInPlace(std::span<float> values) {
  const float max = *std::ranges::max_element(values);
  float sum = 0.0f;
  for (float& v : values) {
    v = std::exp(v - max);
    sum += v;
  }
  for (float& v : values) v /= sum;
}

// A manifest that calls a model's logits probabilities showed confidences such as 1953.8 %.
Result<void> CheckProbabilities(std::span<const float> row) {
  constexpr float kSlack = 0.01f;
  const float sum = std::accumulate(row.begin(), row.end(), 0.0f);
  const bool in_range = std::ranges::all_of(
      row, [](float value) { return value >= -kSlack && value <= 1.0f + kSlack; });
  if (in_range && std::abs(sum - 1.0f) <= kSlack) return {};
  return Fail(ErrorCode::kInvalidArgument,
              std::format("the model's outputs are not probabilities (they sum to {:.3g}): its "
                          "manifest's output.kind should be \"logits\"",
                          sum));
}

}  // namespace

struct OnnxModel::State {
  std::unique_ptr<Ort::Session> session;
  std::string input_name;
  std::string output_name;
  OutputKind output_kind = OutputKind::kLogits;
  std::int64_t channels = 3;
  std::int64_t height = 0;
  std::int64_t width = 0;
  std::size_t classes = 0;
  Ort::MemoryInfo memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

OnnxModel::OnnxModel(std::unique_ptr<State> state) : state_(std::move(state)) {}
OnnxModel::~OnnxModel() = default;

Result<std::unique_ptr<OnnxModel>> OnnxModel::Create(const ModelManifest& manifest,
                                                     const EngineOptions& options) {
  if (!std::filesystem::is_regular_file(manifest.model_file)) {
    return Fail(ErrorCode::kNotFound, "model file " + manifest.model_file.string() +
                                          " not found (set ARGUS_ASSETS_DIR or run "
                                          "scripts/fetch-assets)");
  }
  auto state = std::make_unique<State>();
  try {
    std::lock_guard lock(environment_mutex);
    Ort::SessionOptions session_options;
    const int threads = options.intra_op_threads > 0
                            ? options.intra_op_threads
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    session_options.SetIntraOpNumThreads(threads);
    session_options.SetInterOpNumThreads(1);
    session_options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    session_options.AddConfigEntry(kOrtSessionOptionsConfigAllowIntraOpSpinning,
                                   options.allow_spinning ? "1" : "0");
    // Spinning pays between the operators of a run; after it, the threads would spin on
    // for want of work and take the cores from decoding and the web tier meanwhile.
    session_options.AddConfigEntry(kOrtSessionOptionsConfigForceSpinningStop, "1");
    if (first_session_created) {
      state->session = std::make_unique<Ort::Session>(Environment(), manifest.model_file.c_str(),
                                                      session_options);
    } else {
      Ort::Env& environment = Environment();
      StderrFilter filter;
      state->session =
          std::make_unique<Ort::Session>(environment, manifest.model_file.c_str(), session_options);
      first_session_created = true;
    }

    Ort::AllocatorWithDefaultOptions allocator;
    if (state->session->GetInputCount() != 1 || state->session->GetOutputCount() < 1) {
      return Fail(ErrorCode::kInvalidArgument,
                  manifest.model_file.string() + ": expected one input and an output");
    }
    const std::string input_name = state->session->GetInputNameAllocated(0, allocator).get();
    if (input_name != manifest.input_name) {
      return Fail(
          ErrorCode::kInvalidArgument,
          "model input is \"" + input_name + "\", manifest says \"" + manifest.input_name + "\"");
    }
    bool output_found = false;
    for (std::size_t i = 0; i < state->session->GetOutputCount(); ++i) {
      if (manifest.output_name == state->session->GetOutputNameAllocated(i, allocator).get()) {
        output_found = true;
        const auto shape =
            state->session->GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
        if (shape.size() != 2 || shape[1] <= 0) {
          return Fail(ErrorCode::kInvalidArgument,
                      "model output \"" + manifest.output_name + "\" is not [N, classes]");
        }
        state->classes = static_cast<std::size_t>(shape[1]);
      }
    }
    if (!output_found) {
      return Fail(ErrorCode::kInvalidArgument,
                  "model has no output \"" + manifest.output_name + "\"");
    }
    const auto input_shape =
        state->session->GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetShape();
    const auto& p = manifest.preprocessing;
    if (input_shape.size() != 4 || (input_shape[1] > 0 && input_shape[1] != 3) ||
        (input_shape[2] > 0 && input_shape[2] != p.crop_height) ||
        (input_shape[3] > 0 && input_shape[3] != p.crop_width)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "model input shape does not match the manifest's 3 x " +
                      std::to_string(p.crop_height) + " x " + std::to_string(p.crop_width));
    }
  } catch (const Ort::Exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                "cannot load model " + manifest.model_file.string() + ": " + e.what());
  }
  state->input_name = manifest.input_name;
  state->output_name = manifest.output_name;
  state->output_kind = manifest.output_kind;
  state->height = manifest.preprocessing.crop_height;
  state->width = manifest.preprocessing.crop_width;
  return std::unique_ptr<OnnxModel>(new OnnxModel(std::move(state)));
}

std::size_t OnnxModel::class_count() const { return state_->classes; }

std::size_t OnnxModel::image_tensor_size() const {
  return static_cast<std::size_t>(state_->channels * state_->height * state_->width);
}

Result<std::vector<float>> OnnxModel::Run(std::span<const float> batch, std::size_t count) const {
  assert(count > 0 && batch.size() == count * image_tensor_size());
  const std::array<std::int64_t, 4> shape{static_cast<std::int64_t>(count), state_->channels,
                                          state_->height, state_->width};
  try {
    // ORT takes a mutable pointer but does not write to inputs.
    Ort::Value input = Ort::Value::CreateTensor<float>(
        state_->memory, const_cast<float*>(batch.data()), batch.size(), shape.data(), shape.size());
    const char* input_names[] = {state_->input_name.c_str()};
    const char* output_names[] = {state_->output_name.c_str()};
    auto outputs =
        state_->session->Run(Ort::RunOptions{nullptr}, input_names, &input, 1, output_names, 1);
    const float* data = outputs[0].GetTensorData<float>();
    std::vector<float> probabilities(data, data + count * state_->classes);
    for (std::size_t i = 0; i < count; ++i) {
      const std::span row = std::span(probabilities).subspan(i * state_->classes, state_->classes);
      if (state_->output_kind == OutputKind::kLogits) {
        SoftmaxInPlace(row);
      } else if (auto checked = CheckProbabilities(row); !checked) {
        return std::unexpected(checked.error());
      }
    }
    return probabilities;
  } catch (const Ort::Exception& e) {
    return Fail(ErrorCode::kInternal, std::string("inference failed: ") + e.what());
  }
}

}  // namespace argus::engine
