#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "image/preprocess.h"

namespace argus::engine {

enum class OutputKind : std::uint8_t { kLogits, kProbabilities };

// Everything needed to run an ImageNet-style ONNX classifier; see models/*.json.
struct ModelManifest {
  std::string name;
  std::string version;
  std::filesystem::path model_file;
  std::string input_name;
  std::string output_name;
  OutputKind output_kind = OutputKind::kLogits;
  image::Preprocessing preprocessing;
  std::filesystem::path synsets_file;
  std::filesystem::path names_file;  // empty when the manifest names none
};

// Parses a manifest; relative paths in it are resolved against `base_dir`.
Result<ModelManifest> ParseManifest(std::string_view json, const std::filesystem::path& base_dir);

// `name_or_path` is a built-in model name (resolved against `assets_dir`) or a manifest file
// (resolved against its own directory).
Result<ModelManifest> LoadManifest(std::string_view name_or_path,
                                   const std::filesystem::path& assets_dir);

std::vector<std::string_view> BuiltinModelNames();

inline constexpr std::string_view kDefaultModel = "mobilenetv2-12-int8";

}  // namespace argus::engine
