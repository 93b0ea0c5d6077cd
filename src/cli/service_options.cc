#include "cli/service_options.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <format>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "cli/option_checks.h"
#include "cli/signals.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/repeated_messages.h"
#include "engine/assets.h"
#include "engine/classifier.h"
#include "engine/manifest.h"

namespace argus::cli {

Result<DataDirectory> DataDirectory::Create(const std::filesystem::path& path) {
  const std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
  std::error_code error;
  std::filesystem::path outermost_missing;
  for (std::filesystem::path folder = absolute;
       !folder.empty() && !std::filesystem::exists(folder, error) && !error;
       folder = folder.parent_path()) {
    outermost_missing = folder;
    if (folder == folder.parent_path()) break;
  }
  std::filesystem::create_directories(absolute, error);
  // What a failed creation made, if anything, goes again (not a folder below a file).
  std::error_code made_error;
  DataDirectory directory(std::filesystem::exists(outermost_missing, made_error)
                              ? outermost_missing
                              : std::filesystem::path());
  if (error) {
    return Fail(ErrorCode::kIo,
                "cannot create data directory " + path.string() + ": " + error.message());
  }
  if (::access(absolute.c_str(), W_OK | X_OK) != 0) {
    return Fail(ErrorCode::kIo, "cannot write in data directory " + path.string() + ": " +
                                    std::generic_category().message(errno));
  }
  return directory;
}

DataDirectory::DataDirectory(DataDirectory&& other) noexcept
    : created_(std::exchange(other.created_, {})) {}

DataDirectory::~DataDirectory() {
  if (created_.empty()) return;
  std::error_code error;
  std::filesystem::remove_all(created_, error);
  if (error) {
    LogLine("warning", "storage",
            "cannot remove " + created_.string() +
                ", created by this failed start: " + error.message());
  }
}

Result<DataDirectory> StorageOptions::Resolve() {
  auto directory = DataDirectory::Create(data_dir);
  if (!directory) return std::unexpected(directory.error());
  const std::string dir = std::filesystem::absolute(data_dir).lexically_normal().string();
  catalog_url = CatalogUrl();
  if (queue_url.empty()) queue_url = "sqlite://" + dir + "/queue.db";
  if (blob_url.empty()) blob_url = "file://" + dir + "/blobs";
  if (events_url.empty()) events_url = "unix://" + dir + "/events.sock";
  return directory;
}

std::string StorageOptions::CatalogUrl() const {
  if (!catalog_url.empty()) return catalog_url;
  return "sqlite://" + std::filesystem::absolute(data_dir).lexically_normal().string() +
         "/catalog.db";
}

namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";

// The file of a SQLite store: its URL's, or `default_name` in the data directory when the
// URL is not set; none for another kind of store.
std::optional<std::filesystem::path> SqliteFile(const std::string& url, const std::string& data_dir,
                                                std::string_view default_name) {
  if (url.empty()) return std::filesystem::absolute(data_dir) / default_name;
  if (url.starts_with(kSqliteScheme))
    return std::filesystem::path(url.substr(kSqliteScheme.size()));
  return std::nullopt;
}

}  // namespace

Result<void> StorageOptions::CheckCatalogNotLost(bool queue_shows_a_service) const {
  const auto catalog = SqliteFile(catalog_url, data_dir, "catalog.db");
  if (std::error_code error; !catalog || std::filesystem::exists(*catalog, error)) return {};
  const std::filesystem::path dir = std::filesystem::absolute(data_dir);
  const auto queue = SqliteFile(queue_url, data_dir, "queue.db");
  std::error_code error;
  const bool has_queue = queue_shows_a_service && queue && std::filesystem::exists(*queue, error);
  const bool has_uploads = std::filesystem::is_directory(dir / "blobs" / "inputs", error) &&
                           !std::filesystem::is_empty(dir / "blobs" / "inputs", error);
  if (!has_queue && !has_uploads) return {};
  return Fail(ErrorCode::kInvalidArgument,
              std::format("no catalog at {}, though {} holds a service's {}: a new empty catalog "
                          "would drop every account and photo record; restore catalog.db from a "
                          "backup, or give an empty --data-dir to start anew",
                          catalog->string(), dir.string(), has_uploads ? "uploads" : "queue"));
}

Result<void> StorageOptions::CheckDataDirExists(std::string_view command) const {
  const bool a_store_lies_there =
      catalog_url.empty() || queue_url.empty() || blob_url.empty() || events_url.empty();
  if (std::error_code error; !a_store_lies_there || std::filesystem::exists(data_dir, error)) {
    return {};
  }
  return Fail(
      ErrorCode::kInvalidArgument,
      std::format("no data directory {}: argus {} uses the queue and catalog that the web "
                  "tier (argus web or argus serve) makes in its --data-dir; give the web "
                  "tier's --data-dir, and start the web tier first",
                  std::filesystem::absolute(data_dir).lexically_normal().string(), command));
}

bool StorageOptions::DurabilityApplies() const {
  // A blob store URL without a scheme is a local folder too.
  return catalog_url.starts_with("sqlite://") || queue_url.starts_with("sqlite://") ||
         blob_url.starts_with("file://") || !blob_url.contains("://");
}

Result<Stores> OpenStores(const StorageOptions& options) {
  // Once, though a worker waiting for a store that is down opens them again and again.
  static std::atomic<bool> warned = false;
  if (options.queue_url.starts_with("nats://") && options.events_url.starts_with("unix://") &&
      !warned.exchange(true)) {
    LogLine("warning", "storage",
            "the queue is on NATS but events go over a Unix socket of this machine: processes "
            "on other machines do not hear them, and waiting clients learn of results at the "
            "once-a-second catalog check; give every process the same --events nats://... URL");
  }
  Stores stores;
  auto catalog = catalog::OpenCatalog(options.catalog_url, options.durability);
  // The catalog's messages name it already.
  if (!catalog) return std::unexpected(catalog.error());
  auto queue = queue::OpenQueue(
      options.queue_url, {.visibility_timeout = std::chrono::seconds(options.visibility_timeout_s),
                          .durability = options.durability});
  if (!queue) return Fail(queue.error().code, "queue: " + queue.error().message);
  auto blobs = blob::OpenBlobStore(options.blob_url);
  if (!blobs) return Fail(blobs.error().code, "blob store: " + blobs.error().message);
  auto events = events::OpenEventBus(options.events_url);
  if (!events) return Fail(events.error().code, "events: " + events.error().message);
  stores.catalog = std::move(*catalog);
  stores.queue = std::move(*queue);
  stores.blobs = std::move(*blobs);
  stores.events = std::move(*events);
  return stores;
}

Result<void> RetryWhileUnavailable(std::string_view component, const std::stop_token& stop,
                                   const std::function<Result<void>()>& open) {
  constexpr std::chrono::seconds kRetryPause{1};
  RepeatedMessages waiting(std::chrono::seconds(30));
  for (;;) {
    auto opened = open();
    if (opened || opened.error().code != ErrorCode::kUnavailable) return opened;
    if (const auto held_back = waiting.Admit(opened.error().message)) {
      LogLine("warning", component,
              WithCopiesHeldBack("waiting for the stores: " + opened.error().message, *held_back));
    }
    if (!PauseUnlessStopped(kRetryPause, stop)) return opened;
  }
}

std::optional<Result<void>> RetryWhileUnavailableUnlessSignalled(
    std::string_view component, const std::function<Result<void>()>& open) {
  std::stop_source stop;
  Result<void> opened;
  {
    const std::jthread watcher = WatchTerminationSignals([&stop] { stop.request_stop(); });
    opened = RetryWhileUnavailable(component, stop.get_token(), open);
  }  // joined: a signal it took in the meantime has asked `stop`
  if (stop.stop_requested()) return std::nullopt;
  return opened;
}

Result<std::filesystem::path> CheckWorkerAssets(const std::string& assets_dir_option,
                                                const WorkerSettings& settings) {
  auto assets_dir = engine::ResolveAssetsDirFor(settings.model, assets_dir_option);
  if (!assets_dir) return std::unexpected(assets_dir.error());
  auto manifest = engine::LoadManifest(settings.model, *assets_dir);
  if (!manifest) return std::unexpected(manifest.error());
  if (!std::filesystem::exists(manifest->model_file)) {
    return Fail(ErrorCode::kNotFound,
                "model file " + manifest->model_file.string() +
                    " not found (set ARGUS_ASSETS_DIR or run scripts/fetch-assets)");
  }
  // A model that is there but cannot be loaded or run (a download cut short, a manifest
  // naming the wrong input or calling logits probabilities) would have every worker exit at
  // its start, over and over, while the service took uploads it could never classify.
  // Loading it and running one image here costs a few tens of ms.
  auto loaded = engine::Classifier::Create(*manifest, {.intra_op_threads = 1});
  if (!loaded) return std::unexpected(loaded.error());
  if (auto ran = (*loaded)->WarmUp(1); !ran) return std::unexpected(ran.error());
  return assets_dir;
}

void AddCatalogOptions(CLI::App& command, StorageOptions& options) {
  command
      .add_option("--data-dir", options.data_dir,
                  "Folder for the embedded catalog, queue and blobs")
      ->envname("ARGUS_DATA_DIR")
      ->check(NotEmpty())
      ->capture_default_str();
  command
      .add_option("--catalog", options.catalog_url,
                  "Catalog URL (default sqlite://DATA_DIR/catalog.db)")
      ->envname("ARGUS_CATALOG_URL");
}

void AddStorageOptions(CLI::App& command, StorageOptions& options) {
  AddCatalogOptions(command, options);
  command
      .add_option("--queue", options.queue_url, "Queue URL (default sqlite://DATA_DIR/queue.db)")
      ->envname("ARGUS_QUEUE_URL");
  command.add_option("--blobs", options.blob_url, "Blob store URL (default file://DATA_DIR/blobs)")
      ->envname("ARGUS_BLOB_URL");
  command
      .add_option("--events", options.events_url,
                  "Event bus URL (default unix://DATA_DIR/events.sock)")
      ->envname("ARGUS_EVENTS_URL");
  command
      .add_option("--visibility-timeout", options.visibility_timeout_s,
                  "Seconds a received job stays hidden before it is delivered again")
      ->envname("ARGUS_VISIBILITY_TIMEOUT")
      ->check(CLI::Range(1, 43200))
      ->capture_default_str();
  command
      .add_option_function<std::string>(
          "--durability",
          [&options](const std::string& name) {
            options.durability =
                name == "power" ? DurabilityLevel::kPowerLoss : DurabilityLevel::kProcessCrash;
          },
          "What an accepted upload survives: process (the crash of any process) or power "
          "(also a power loss: fsync of its file and of every SQLite commit)")
      ->envname("ARGUS_DURABILITY")
      ->transform(CLI::IsMember({"process", "power"}, CLI::ignore_case))
      ->default_str("process");
}

void AddImageLimitOptions(CLI::App& command, image::Limits& limits) {
  AcceptSizeWithUnit(*command
                          .add_option("--max-bytes", limits.max_bytes,
                                      "Largest image file, in bytes (units: 50MiB, 50MB)")
                          ->envname("ARGUS_MAX_BYTES")
                          ->capture_default_str());
  command
      .add_option("--max-pixels", limits.max_pixels, "Largest image, in pixels (width x height)")
      ->envname("ARGUS_MAX_PIXELS")
      ->check(AtLeastOne())
      ->capture_default_str();
}

void AddWorkerSettings(CLI::App& command, WorkerSettings& settings) {
  settings.model = std::string(engine::kDefaultModel);
  command.add_option("-m,--model", settings.model, "Built-in model name or manifest path")
      ->envname("ARGUS_MODEL")
      ->capture_default_str();
  command.add_option("--max-batch", settings.worker.max_batch, "Most images per inference run")
      ->envname("ARGUS_MAX_BATCH")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  command
      .add_option_function<int>(
          "--max-batch-delay-ms",
          [&settings](int ms) { settings.worker.max_batch_delay = std::chrono::milliseconds(ms); },
          "Longest wait for more jobs once a batch has its first (default 0)")
      ->envname("ARGUS_MAX_BATCH_DELAY_MS")
      ->check(CLI::Range(0, 10'000));
  command
      .add_option("--max-attempts", settings.worker.max_attempts,
                  "Deliveries of a job before it is dead-lettered (after one more alone, if its "
                  "earlier ones all had other jobs in the worker's hands)")
      ->envname("ARGUS_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command
      .add_option("--engine-threads", settings.engine_threads,
                  "ONNX Runtime threads per worker (0: one per core; for workers that serve or "
                  "scaler starts, the cores shared among --max-workers)")
      ->envname("ARGUS_ENGINE_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  command
      .add_flag("--engine-spin", settings.engine_spin,
                "Let ONNX Runtime threads spin between operators (serve and scaler turn it on "
                "for a lone worker, --max-workers 1)")
      ->envname("ARGUS_ENGINE_SPIN");
  command
      .add_option("--decode-threads", settings.worker.decode_threads,
                  "Decoding threads per worker (0: one per core; for workers that serve or "
                  "scaler starts, the cores shared among --max-workers)")
      ->envname("ARGUS_DECODE_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  AddImageLimitOptions(command, settings.worker.limits);
}

void AddScalingOptions(CLI::App& command, scaler::ScalingOptions& scaling,
                       int& scale_in_cooldown_s) {
  command
      .add_option("--min-workers", scaling.min_workers,
                  "Fewest worker processes (0: scale to zero when idle)")
      ->envname("ARGUS_MIN_WORKERS")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  command
      .add_option("--max-workers", scaling.max_workers,
                  "Most worker processes (default: the cores, or --min-workers if more)")
      ->envname("ARGUS_MAX_WORKERS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command
      .add_option("--jobs-per-worker", scaling.jobs_per_worker,
                  "Queue depth one worker is expected to handle")
      ->envname("ARGUS_JOBS_PER_WORKER")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  command
      .add_option("--scale-in-cooldown", scale_in_cooldown_s,
                  "Seconds of lower demand before workers are stopped")
      ->envname("ARGUS_SCALE_IN_COOLDOWN")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  command
      .add_option("--scale-out-idle-cores", scaling.scale_out_idle_cores,
                  "Idle cores a further worker needs before it is started (0: demand alone)")
      ->envname("ARGUS_SCALE_OUT_IDLE_CORES")
      ->check(Between(0.0, 1024.0))
      ->capture_default_str();
  command
      .add_option_function<int>(
          "--stall-timeout",
          [&scaling](int seconds) { scaling.stall_timeout = std::chrono::seconds(seconds); },
          "Seconds without a heartbeat after which a worker is killed and replaced (default 30; "
          "a store request may take 10)")
      ->envname("ARGUS_STALL_TIMEOUT")
      ->check(CLI::Range(1, 86400));
}

void SettleWorkerBounds(const CLI::App& command, scaler::ScalingOptions& scaling) {
  if (scaling.min_workers <= scaling.max_workers) return;
  if (command.get_option("--max-workers")->count() > 0) {
    throw CLI::ValidationError(
        "--min-workers",
        std::format("{} is more than --max-workers {}", scaling.min_workers, scaling.max_workers));
  }
  scaling.max_workers = scaling.min_workers;
}

std::vector<std::string> WorkerCommand(const StorageOptions& storage,
                                       const WorkerSettings& settings,
                                       const std::string& assets_dir, int max_workers) {
  const auto share = static_cast<std::size_t>(std::max(
      1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) / max_workers));
  auto threads = [share](std::size_t configured) {
    return std::to_string(configured > 0 ? configured : share);
  };
  std::error_code error;
  const std::string executable = std::filesystem::read_symlink("/proc/self/exe", error).string();
  const auto& w = settings.worker;
  std::vector<std::string> command{
      executable, "worker",
      // For the folder where uploads are announced (worker/decode_ahead.h).
      "--data-dir=" + std::filesystem::absolute(storage.data_dir).lexically_normal().string(),
      "--visibility-timeout=" + std::to_string(storage.visibility_timeout_s),
      std::format("--durability={}", DurabilityName(storage.durability)),
      "--model=" + settings.model, "--max-batch=" + std::to_string(w.max_batch),
      "--max-batch-delay-ms=" + std::to_string(w.max_batch_delay.count()),
      "--max-attempts=" + std::to_string(w.max_attempts),
      "--engine-threads=" + threads(static_cast<std::size_t>(settings.engine_threads)),
      "--decode-threads=" + threads(w.decode_threads),
      // A lone worker has the cores to itself between requests; workers that share them must
      // not burn them spinning.
      std::format("--engine-spin={}", settings.engine_spin || max_workers == 1),
      "--max-bytes=" + std::to_string(w.limits.max_bytes),
      "--max-pixels=" + std::to_string(w.limits.max_pixels)};
  if (!assets_dir.empty()) command.insert(command.begin() + 1, "--assets-dir=" + assets_dir);
  return command;
}

std::vector<std::string> WorkerEnvironment(const char* const* inherited,
                                           const StorageOptions& storage) {
  constexpr std::string_view kTunables = "GLIBC_TUNABLES=";
  constexpr std::string_view kHugePages = "glibc.malloc.hugetlb=1";
  const std::pair<std::string_view, const std::string*> urls[] = {
      {"ARGUS_CATALOG_URL=", &storage.catalog_url},
      {"ARGUS_QUEUE_URL=", &storage.queue_url},
      {"ARGUS_BLOB_URL=", &storage.blob_url},
      {"ARGUS_EVENTS_URL=", &storage.events_url}};
  std::vector<std::string> environment;
  bool tunables_seen = false;
  for (const char* const* entry = inherited; entry != nullptr && *entry != nullptr; ++entry) {
    std::string variable(*entry);
    if (std::ranges::any_of(urls,
                            [&](const auto& url) { return variable.starts_with(url.first); })) {
      continue;
    }
    if (variable.starts_with(kTunables)) {
      tunables_seen = true;
      if (variable.find("glibc.malloc.hugetlb=") == std::string::npos) {
        variable += (variable.size() > kTunables.size() ? ":" : "") + std::string(kHugePages);
      }
    }
    environment.push_back(std::move(variable));
  }
  if (!tunables_seen) environment.push_back(std::string(kTunables) + std::string(kHugePages));
  for (const auto& [name, value] : urls) {
    if (!value->empty()) environment.push_back(std::string(name) + *value);
  }
  return environment;
}

}  // namespace argus::cli
