#pragma once

#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "common/error.h"
#include "engine/classification.h"
#include "engine/classifier.h"
#include "image/limits.h"

namespace argus::cli {

struct PipelineOptions {
  std::size_t max_batch = 16;
  std::size_t decode_threads = 0;  // 0: one per core
  std::size_t top_k = 5;
  image::Limits limits;
};

struct FileResult {
  std::filesystem::path file;
  Result<engine::Classification> classification;
};

// Classifies `files`, decoding on several threads while the previous batch runs through the
// model. `on_result` is called on the calling thread, once per file, in input order.
void ClassifyFiles(const engine::Classifier& classifier,
                   std::span<const std::filesystem::path> files, const PipelineOptions& options,
                   const std::function<void(FileResult&&)>& on_result);

// Expands files and directories (recursively, image extensions only, sorted) into the list
// of files to classify. Named files are kept whatever their extension or state, so that
// each problem is reported as that file's result.
Result<std::vector<std::filesystem::path>> CollectImageFiles(
    std::span<const std::string> arguments);

}  // namespace argus::cli
