#include "cli/classify_command.h"

#include <json/json.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <format>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/classify_pipeline.h"
#include "cli/option_checks.h"
#include "common/base64.h"
#include "common/json.h"
#include "common/utf8.h"
#include "engine/assets.h"
#include "engine/classifier.h"
#include "engine/manifest.h"
#include "image/vips_init.h"

namespace argus::cli {
namespace {

struct ClassifyOptions {
  std::vector<std::string> inputs;
  std::string model{engine::kDefaultModel};
  std::size_t top_k = 5;
  bool json = false;
  bool quiet = false;
  std::size_t max_batch = 16;
  std::size_t decode_threads = 0;
  int engine_threads = 0;
  image::Limits limits;
};

// Redraws a one-line bar on stderr at most ten times a second.
class ProgressBar {
 public:
  explicit ProgressBar(std::size_t total) : total_(total) {}
  void Advance() {
    ++done_;
    const auto now = std::chrono::steady_clock::now();
    if (shown_ && done_ < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    shown_ = true;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = total_ ? kWidth * done_ / total_ : kWidth;
    std::cerr << std::format("\r[{}{}] {}/{} {:.0f} images/s ", std::string(filled, '#'),
                             std::string(kWidth - filled, '.'), done_, total_,
                             seconds > 0 ? static_cast<double>(done_) / seconds : 0.0)
              << std::flush;
  }
  // Before anything else is printed on the terminal; the next Advance draws the bar again.
  void Clear() {
    std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  std::size_t total_;
  std::size_t done_ = 0;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

// File names may hold any byte but '/' and NUL: control characters in one (an escape sequence,
// say) would otherwise act on the terminal.
std::string Printable(const std::filesystem::path& file) {
  std::string name = file.string();
  std::ranges::replace_if(name, [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
  return name;
}

std::string Percent(float confidence) { return std::format("{:5.1f}%", confidence * 100.0f); }

std::string JoinParents(const std::vector<std::string_view>& parents) {
  std::string joined;
  for (std::string_view parent : parents) {
    joined += (joined.empty() ? "" : ", ") + std::string(parent);
  }
  return joined;
}

void PrintTableRow(const FileResult& result, std::size_t file_width) {
  const std::string file = Printable(result.file);
  if (!result.classification) {
    const Error& error = result.classification.error();
    std::cout << std::format("{:<{}}  error ({}): {}\n", file, file_width,
                             ErrorCodeName(error.code), error.message);
    return;
  }
  const engine::Classification& c = *result.classification;
  for (std::size_t i = 0; i < c.labels.size(); ++i) {
    const engine::LabelScore& label = c.labels[i];
    std::cout << std::format("{:<{}}  {:<28} {}  {}\n", i == 0 ? file : "", file_width, label.name,
                             Percent(label.confidence), JoinParents(label.parents));
  }
  if (!c.spirit_dog.name.empty()) {
    std::cout << std::format("{:<{}}  spirit dog: {} ({:.1f}%)\n", "", file_width,
                             c.spirit_dog.name, c.spirit_dog.confidence * 100.0f);
  }
}

void PrintJsonLine(const FileResult& result, const std::string& model_name) {
  Json::Value line(Json::objectValue);
  if (result.classification) {
    line = engine::ToJson(*result.classification);
    line["model"] = model_name;
  } else {
    line["error"]["code"] = std::string(ErrorCodeName(result.classification.error().code));
    line["error"]["message"] = result.classification.error().message;
  }
  const std::string file = result.file.string();
  line["file"] = file;
  // JSON text is Unicode, so a name that is not UTF-8 has U+FFFD for its stray bytes there,
  // and two such names can read the same: its exact bytes come too.
  if (!IsUtf8(file)) line["file_base64"] = Base64(file);
  std::cout << WriteJson(line) << '\n';
}

int RunClassify(const ClassifyOptions& options, const GlobalOptions& global) {
  // The network libraries linked into the binary ignore SIGPIPE; a command whose output
  // goes to `head` should stop when the reader does, as other command-line tools do.
  std::signal(SIGPIPE, SIG_DFL);
  image::DropVipsWarnings();
  auto assets_dir = engine::ResolveAssetsDirFor(options.model, global.assets_dir);
  if (!assets_dir) {
    std::cerr << "argus classify: " << assets_dir.error().message << '\n';
    return 2;
  }
  auto manifest = engine::LoadManifest(options.model, *assets_dir);
  if (!manifest) {
    std::cerr << "argus classify: " << manifest.error().message << '\n';
    return 2;
  }
  auto files = CollectImageFiles(options.inputs);
  if (!files) {
    std::cerr << "argus classify: " << files.error().message << '\n';
    return 2;
  }
  if (files->empty()) {
    std::cerr << "argus classify: no image files found in the given directories\n";
    return 1;
  }
  auto classifier = engine::Classifier::Create(
      *manifest, {.intra_op_threads = options.engine_threads, .allow_spinning = false});
  if (!classifier) {
    std::cerr << "argus classify: " << classifier.error().message << '\n';
    return 2;
  }

  std::size_t file_width = 0;
  for (const auto& file : *files) file_width = std::max(file_width, file.string().size());
  file_width = std::min<std::size_t>(file_width, 48);

  std::unique_ptr<ProgressBar> progress;
  if (!options.quiet && isatty(STDERR_FILENO))
    progress = std::make_unique<ProgressBar>(files->size());
  std::size_t failed = 0;
  const PipelineOptions pipeline{.max_batch = options.max_batch,
                                 .decode_threads = options.decode_threads,
                                 .top_k = options.top_k,
                                 .limits = options.limits};
  ClassifyFiles(**classifier, *files, pipeline, [&](FileResult&& result) {
    if (progress) progress->Clear();
    if (!result.classification) {
      ++failed;
      std::cerr << "argus classify: " << Printable(result.file) << ": "
                << result.classification.error().message << '\n';
    }
    if (options.json) {
      PrintJsonLine(result, manifest->name);
    } else {
      PrintTableRow(result, file_width);
    }
    if (progress) progress->Advance();
  });
  if (progress) progress->Clear();
  if (!std::cout.flush()) {
    std::cerr << "argus classify: cannot write the results to standard output\n";
    return 1;
  }
  if (failed > 0) {
    std::cerr << std::format("argus classify: {} of {} files failed\n", failed, files->size());
    return 1;
  }
  return 0;
}

}  // namespace

void AddClassifyCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ClassifyOptions>();
  CLI::App* command = app.add_subcommand(
      "classify", "Classify image files offline and print their labels and spirit dog");
  command
      ->add_option("inputs", options->inputs, "Image files or directories (searched recursively)")
      ->required();
  command
      ->add_option("-m,--model", options->model,
                   "Built-in model name (" + std::string(engine::kDefaultModel) +
                       ", mobilenetv2-12-fp32-from-int8) or path to a model manifest JSON")
      ->envname("ARGUS_MODEL")
      ->capture_default_str();
  command->add_option("-k,--top-k", options->top_k, "Labels to report per image")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_flag("--json", options->json,
                    "One JSON object per line: file, labels [{wnid, name, confidence, parents}], "
                    "spirit_dog, model; or file and error");
  command->add_flag("-q,--quiet", options->quiet, "No progress bar");
  command->add_option("--batch", options->max_batch, "Images per inference run")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command
      ->add_option("--decode-threads", options->decode_threads,
                   "Threads decoding images (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  command
      ->add_option("--engine-threads", options->engine_threads,
                   "ONNX Runtime intra-op threads (0: one per core)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  AcceptSizeWithUnit(*command
                          ->add_option("--max-bytes", options->limits.max_bytes,
                                       "Largest file accepted, in bytes (units: 50MiB, 50MB)")
                          ->capture_default_str());
  command
      ->add_option("--max-pixels", options->limits.max_pixels,
                   "Largest image accepted, in pixels (width x height)")
      ->check(AtLeastOne())
      ->capture_default_str();
  command->callback([options, &global, &exit_code] { exit_code = RunClassify(*options, global); });
}

}  // namespace argus::cli
