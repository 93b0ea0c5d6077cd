// Engine and `argus classify` throughput. Run with `make bench` (bench/run).
#include <benchmark/benchmark.h>
#include <vips/vips.h>

#include <format>
#include <fstream>
#include <random>
#include <thread>
#include <tuple>

#include "cli/classify_pipeline.h"
#include "engine/classifier.h"
#include "engine/manifest.h"
#include "image/read_file.h"

namespace argus {
namespace {

const std::filesystem::path kAssets = ARGUS_BENCH_SHARED_DIR "/assets";
const std::filesystem::path kSamples = ARGUS_BENCH_SHARED_DIR "/data/imagenet-sample";

// One classifier per model and engine setting for the whole run, as in a server process.
// Threads 0: one per core; without spinning, as workers and `argus classify` run.
const engine::Classifier& ClassifierFor(std::string_view model, int threads = 0,
                                        bool spinning = false) {
  static std::map<std::tuple<std::string, int, bool>, std::unique_ptr<engine::Classifier>>
      classifiers;
  auto& classifier = classifiers[{std::string(model), threads, spinning}];
  if (!classifier) {
    auto manifest = engine::LoadManifest(model, kAssets).value();
    classifier = std::move(engine::Classifier::Create(
                               manifest, {.intra_op_threads = threads, .allow_spinning = spinning})
                               .value());
  }
  return *classifier;
}

std::vector<std::filesystem::path> SamplePhotos() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSamples)) {
    if (entry.path().extension() == ".JPEG") files.push_back(entry.path());
  }
  std::ranges::sort(files);
  return files;
}

void SetPerImageCounters(benchmark::State& state, std::size_t images_per_iteration) {
  const double images = static_cast<double>(state.iterations() * images_per_iteration);
  state.SetItemsProcessed(static_cast<std::int64_t>(images));
  state.counters["ms_per_image"] = benchmark::Counter(
      images / 1000.0, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// The raw engine: preprocessed tensors in, probabilities and labels out. Arguments: batch,
// intra-op threads (0: one per core), spinning (0/1).
void BM_Engine(benchmark::State& state, std::string_view model) {
  const engine::Classifier& classifier =
      ClassifierFor(model, static_cast<int>(state.range(1)), state.range(2) != 0);
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<float> tensors(batch * classifier.tensor_size());
  std::mt19937 random(1);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  for (float& v : tensors) v = value(random);
  for (auto _ : state) {
    auto result = classifier.Classify(tensors, batch, 5);
    benchmark::DoNotOptimize(result);
  }
  SetPerImageCounters(state, batch);
}
BENCHMARK_CAPTURE(BM_Engine, int8, std::string_view("mobilenetv2-12-int8"))
    ->ArgsProduct({{1, 8, 16}, {1, 2}, {0, 1}})
    ->ArgNames({"batch", "threads", "spin"})
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Engine, fp32, std::string_view("mobilenetv2-12-fp32-from-int8"))
    ->ArgsProduct({{1, 16}, {0}, {0}})
    ->ArgNames({"batch", "threads", "spin"})
    ->UseRealTime()
    ->MinTime(1.0);

// `argus classify` end to end over the 500 labelled photos: read, decode, infer, label.
void BM_ClassifyCommand(benchmark::State& state) {
  const engine::Classifier& classifier = ClassifierFor(engine::kDefaultModel);
  const auto files = SamplePhotos();
  for (auto _ : state) {
    std::size_t ok = 0;
    cli::ClassifyFiles(classifier, files, {.max_batch = 16},
                       [&](cli::FileResult&& r) { ok += r.classification.has_value(); });
    if (ok != files.size()) state.SkipWithError("some sample photos failed");
  }
  SetPerImageCounters(state, files.size());
}
BENCHMARK(BM_ClassifyCommand)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(5.0);

// Preprocesses the photos in turn, one per iteration, on this thread.
void PreprocessInTurn(benchmark::State& state, const std::vector<std::vector<std::byte>>& photos) {
  const engine::Classifier& classifier = ClassifierFor(engine::kDefaultModel);
  std::vector<float> tensor(classifier.tensor_size());
  std::size_t next = 0;
  for (auto _ : state) {
    auto status = classifier.Preprocess(photos[next++ % photos.size()], {}, tensor);
    if (!status) state.SkipWithError(status.error().message);
  }
  SetPerImageCounters(state, 1);
}

// Decoding one photo into a tensor on one thread: the 500 ImageNet photos (about 500 x 375)
// and the 64 x 64 photos of the course workload.
void BM_Preprocess(benchmark::State& state, std::string_view set) {
  std::vector<std::filesystem::path> files;
  if (set == "imagenet") {
    files = SamplePhotos();
  } else {
    for (int i = 0; i < 100; ++i) {
      files.push_back(std::filesystem::path(ARGUS_BENCH_SHARED_DIR) / "data/cse546-imagenet-100" /
                      std::format("test_{}.JPEG", i));
    }
  }
  std::vector<std::vector<std::byte>> photos;
  photos.reserve(files.size());
  for (const auto& file : files) photos.push_back(image::ReadFile(file, 1 << 30).value());
  PreprocessInTurn(state, photos);
}
BENCHMARK_CAPTURE(BM_Preprocess, imagenet, std::string_view("imagenet"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);
BENCHMARK_CAPTURE(BM_Preprocess, course_64px, std::string_view("course"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(1.0);

// Phone photos: 12-megapixel JPEGs made from the samples; shrink-on-load keeps them cheap.
void BM_Preprocess12Megapixel(benchmark::State& state) {
  std::vector<std::vector<std::byte>> photos;
  const auto samples = SamplePhotos();
  for (std::size_t i = 0; i < 4; ++i) {
    VipsImage* small = vips_image_new_from_file(samples[i * 97].c_str(), nullptr);
    VipsImage* large = nullptr;
    void* jpeg = nullptr;
    std::size_t size = 0;
    if (!small ||
        vips_thumbnail_image(small, &large, 4000, "height", 3000, "size", VIPS_SIZE_FORCE,
                             nullptr) ||
        vips_jpegsave_buffer(large, &jpeg, &size, "Q", 90, nullptr)) {
      state.SkipWithError(vips_error_buffer());
      return;
    }
    const auto* bytes = static_cast<const std::byte*>(jpeg);
    photos.emplace_back(bytes, bytes + size);
    g_free(jpeg);
    g_object_unref(large);
    g_object_unref(small);
  }
  PreprocessInTurn(state, photos);
  state.counters["megabytes_per_photo"] = static_cast<double>(photos[0].size()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_Preprocess12Megapixel)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace argus

int main(int argc, char** argv) {
  benchmark::AddCustomContext("cores", std::to_string(std::thread::hardware_concurrency()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
