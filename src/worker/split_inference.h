#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/error.h"
#include "engine/classifier.h"

namespace trantor {
class ConcurrentTaskQueue;
}  // namespace trantor

namespace argus::worker {

// A worker decodes the next batch while the model runs this one, and a batch's inference
// runs on the worker's engine threads only: one, when workers share the cores. Where
// decoding is quick (small photos) the model is the bottleneck and the other cores wait,
// as they do after a burst's uploads are in. The batch is then split into parts run at
// once, each on its own thread: unlike more engine threads, the parts never wait for one
// another, so a part whose thread is descheduled delays nobody but itself.

// How many parts to split a batch of `batch_size` images into, at most `max_runs`: one
// unless decoding the batch took under kInferenceBound of what one run would take, at
// `unsplit_ms_per_image` (0 while not yet measured).
inline constexpr double kInferenceBound = 0.6;
std::size_t InferenceRuns(std::size_t batch_size, std::size_t max_runs, double decode_ms,
                          double unsplit_ms_per_image);

// Classifies `count` images laid back to back in `tensors` in `runs` parts of consecutive
// images, the first on this thread and the others on `helpers`: the results in the images'
// order, or the error of the first part that failed.
Result<std::vector<engine::Classification>> ClassifyInParts(const engine::Classifier& classifier,
                                                            std::span<const float> tensors,
                                                            std::size_t count, std::size_t top_k,
                                                            std::size_t runs,
                                                            trantor::ConcurrentTaskQueue& helpers);

}  // namespace argus::worker
