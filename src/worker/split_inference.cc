#include "worker/split_inference.h"

#include <trantor/utils/ConcurrentTaskQueue.h>

#include <algorithm>
#include <cassert>
#include <iterator>
#include <latch>

namespace argus::worker {

std::size_t InferenceRuns(std::size_t batch_size, std::size_t max_runs, double decode_ms,
                          double unsplit_ms_per_image) {
  if (max_runs < 2 || batch_size < 2 || unsplit_ms_per_image <= 0) return 1;
  const double one_run_ms = static_cast<double>(batch_size) * unsplit_ms_per_image;
  if (decode_ms >= kInferenceBound * one_run_ms) return 1;
  return std::min(max_runs, batch_size);
}

Result<std::vector<engine::Classification>> ClassifyInParts(const engine::Classifier& classifier,
                                                            std::span<const float> tensors,
                                                            std::size_t count, std::size_t top_k,
                                                            std::size_t runs,
                                                            trantor::ConcurrentTaskQueue& helpers) {
  assert(runs >= 1 && runs <= count && tensors.size() >= count * classifier.tensor_size());
  const std::size_t part_size = (count + runs - 1) / runs;
  const std::size_t parts = (count + part_size - 1) / part_size;
  std::vector<Result<std::vector<engine::Classification>>> results(parts);
  auto classify = [&](std::size_t part) {
    const std::size_t first = part * part_size;
    const std::size_t size = std::min(part_size, count - first);
    results[part] = classifier.Classify(
        tensors.subspan(first * classifier.tensor_size(), size * classifier.tensor_size()), size,
        top_k);
  };
  std::latch helped(static_cast<std::ptrdiff_t>(parts - 1));
  for (std::size_t part = 1; part < parts; ++part) {
    helpers.runTaskInQueue([&, part] {
      classify(part);
      helped.count_down();
    });
  }
  classify(0);
  helped.wait();
  std::vector<engine::Classification> all;
  all.reserve(count);
  for (auto& result : results) {
    if (!result) return std::unexpected(std::move(result.error()));
    std::ranges::move(*result, std::back_inserter(all));
  }
  return all;
}

}  // namespace argus::worker
