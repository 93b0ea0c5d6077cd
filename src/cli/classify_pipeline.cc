#include "cli/classify_pipeline.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "common/ascii.h"
#include "image/read_file.h"

namespace argus::cli {
namespace {

// One decoded image waiting for its batch; slots form a ring of `window` entries.
struct Slot {
  bool ready = false;
  Result<void> status;
  std::vector<float> tensor;
};

bool HasImageExtension(const std::filesystem::path& path) {
  static const std::set<std::string> kExtensions{".jpg",  ".jpeg", ".jpe",  ".jfif", ".pjpeg",
                                                 ".pjp",  ".png",  ".webp", ".gif",  ".heic",
                                                 ".heif", ".hif",  ".avif"};
  return kExtensions.contains(AsciiLowercase(path.extension().string()));
}

}  // namespace

void ClassifyFiles(const engine::Classifier& classifier,
                   std::span<const std::filesystem::path> files, const PipelineOptions& options,
                   const std::function<void(FileResult&&)>& on_result) {
  const std::size_t count = files.size();
  const std::size_t max_batch = std::max<std::size_t>(1, options.max_batch);
  const std::size_t window = 2 * max_batch;
  const std::size_t tensor_size = classifier.tensor_size();
  std::vector<Slot> slots(window);

  std::mutex mutex;
  std::condition_variable slot_ready;
  std::condition_variable slot_free;
  std::size_t consumed = 0;  // files before this index have been reported
  std::atomic<std::size_t> next_file = 0;

  auto decode = [&] {
    for (std::size_t index = next_file++; index < count; index = next_file++) {
      Slot& slot = slots[index % window];
      {
        std::unique_lock lock(mutex);
        slot_free.wait(lock, [&] { return index < consumed + window; });
      }
      slot.tensor.resize(tensor_size);
      auto bytes = image::ReadFile(files[index], options.limits.max_bytes);
      slot.status = bytes ? classifier.Preprocess(*bytes, options.limits, slot.tensor)
                          : Result<void>(std::unexpected(bytes.error()));
      {
        std::lock_guard lock(mutex);
        slot.ready = true;
      }
      slot_ready.notify_all();
    }
  };
  const std::size_t thread_count = options.decode_threads > 0
                                       ? options.decode_threads
                                       : std::max(1u, std::thread::hardware_concurrency());
  const std::size_t decoder_count = std::min(thread_count, count);
  std::vector<std::jthread> decoders;
  decoders.reserve(decoder_count);
  for (std::size_t i = 0; i < decoder_count; ++i) decoders.emplace_back(decode);

  std::vector<float> batch;
  while (consumed < count) {
    const std::size_t batch_end = std::min(count, consumed + max_batch);
    {
      std::unique_lock lock(mutex);
      for (std::size_t i = consumed; i < batch_end; ++i) {
        slot_ready.wait(lock, [&] { return slots[i % window].ready; });
      }
    }
    batch.clear();
    for (std::size_t i = consumed; i < batch_end; ++i) {
      const Slot& slot = slots[i % window];
      if (slot.status) batch.insert(batch.end(), slot.tensor.begin(), slot.tensor.end());
    }
    const std::size_t decoded = batch.size() / tensor_size;
    Result<std::vector<engine::Classification>> classified;
    if (decoded > 0) classified = classifier.Classify(batch, decoded, options.top_k);

    std::size_t next_classified = 0;
    for (std::size_t i = consumed; i < batch_end; ++i) {
      Slot& slot = slots[i % window];
      FileResult result{files[i], std::unexpected(Error{ErrorCode::kInternal, ""})};
      if (!slot.status) {
        result.classification = std::unexpected(slot.status.error());
      } else if (!classified) {
        result.classification = std::unexpected(classified.error());
      } else {
        result.classification = std::move((*classified)[next_classified++]);
      }
      on_result(std::move(result));
    }
    {
      std::lock_guard lock(mutex);
      for (std::size_t i = consumed; i < batch_end; ++i) slots[i % window].ready = false;
      consumed = batch_end;
    }
    slot_free.notify_all();
  }
}

Result<std::vector<std::filesystem::path>> CollectImageFiles(
    std::span<const std::string> arguments) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const std::string& argument : arguments) {
    std::error_code error;
    const fs::file_status status = fs::status(argument, error);
    if (fs::is_directory(status)) {
      // A folder that cannot be read is reported as its result, as an unreadable file is,
      // where its images were left out in silence.
      const auto unreadable = [](const fs::path& folder) {
        std::error_code denied;
        const fs::directory_iterator probe(folder, denied);
        return denied == std::errc::permission_denied;
      };
      if (unreadable(argument)) {
        files.emplace_back(argument);
        continue;
      }
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(
               argument, fs::directory_options::skip_permission_denied, error);
           !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (it->is_directory(error) && !it->is_symlink(error) && unreadable(it->path())) {
          found.push_back(it->path());
          continue;
        }
        // A link to nothing is reported as its result, as a missing file named is, not
        // passed over in silence.
        const bool dangling = it->is_symlink(error) && !it->exists(error);
        if ((dangling || it->is_regular_file(error)) && HasImageExtension(it->path()))
          found.push_back(it->path());
      }
      if (error)
        return Fail(ErrorCode::kIo, "cannot read directory " + argument + ": " + error.message());
      std::ranges::sort(found);
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.emplace_back(argument);  // a missing or unreadable file is reported as its result
    }
  }
  return files;
}

}  // namespace argus::cli
