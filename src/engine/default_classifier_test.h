#pragma once

// Test-only: the default model from the shared assets, which the tests of several modules
// run.

#include <filesystem>
#include <memory>

#include "engine/classifier.h"
#include "engine/manifest.h"

namespace argus::engine {

inline Result<std::unique_ptr<Classifier>> LoadDefaultClassifier(
    const std::filesystem::path& assets_dir, const EngineOptions& options) {
  auto manifest = LoadManifest(kDefaultModel, assets_dir);
  if (!manifest) return std::unexpected(manifest.error());
  return Classifier::Create(*manifest, options);
}

}  // namespace argus::engine
