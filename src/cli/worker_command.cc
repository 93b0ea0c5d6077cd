#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include "cli/drogon_log.h"
#include "cli/service_commands.h"
#include "cli/service_options.h"
#include "cli/signals.h"
#include "common/log.h"
#include "engine/assets.h"
#include "engine/classifier.h"
#include "image/vips_init.h"
#include "worker/heartbeat.h"

namespace argus::cli {
namespace {

struct WorkerCommandOptions {
  StorageOptions storage;
  WorkerSettings settings;
  int heartbeat_fd = -1;  // given by the scaler that starts the worker
};

int RunWorker(WorkerCommandOptions& options, const GlobalOptions& global) {
  BlockTerminationSignals();
  image::LogVipsWarnings();
  LogDrogonAsJson();
  auto fail = [](const std::string& message) {
    LogLine("error", "worker", message);
    return 2;
  };
  auto assets_dir = engine::ResolveAssetsDirFor(options.settings.model, global.assets_dir);
  if (!assets_dir) return fail(assets_dir.error().message);
  auto manifest = engine::LoadManifest(options.settings.model, *assets_dir);
  if (!manifest) return fail(manifest.error().message);
  if (auto made = options.storage.CheckDataDirExists("worker"); !made) {
    return fail(made.error().message);
  }
  if (auto whole = options.storage.CheckCatalogNotLost(/*queue_shows_a_service=*/false); !whole) {
    return fail(whole.error().message);
  }
  auto classifier =
      engine::Classifier::Create(*manifest, {.intra_op_threads = options.settings.engine_threads,
                                             .allow_spinning = options.settings.engine_spin});
  if (!classifier) return fail(classifier.error().message);
  auto data_dir = options.storage.Resolve();
  if (!data_dir) return fail(data_dir.error().message);
  std::optional<worker::Heartbeat> heartbeat;
  if (options.heartbeat_fd >= 0) heartbeat.emplace(options.heartbeat_fd);
  std::stop_source stop;
  auto watcher = WatchTerminationSignals([&stop] { stop.request_stop(); });
  // Asked to stop, a worker finishes the batch in hand. One whose batch hung after its scaler
  // was killed had no one left to kill it, and extended its jobs' visibility for good: it
  // leaves by itself once past the 30 s a scaler waits, and its jobs come back to the queue.
  constexpr std::chrono::seconds kStopLimit{40};
  auto overdue = ExitUnlessStoppedWithin(stop.get_token(), kStopLimit, "worker");
  // A running worker waits through an outage too; its scaler counted an exit as a crash.
  Result<Stores> stores;
  auto opened = RetryWhileUnavailable("worker", stop.get_token(), [&]() -> Result<void> {
    if (heartbeat) heartbeat->Beat();
    stores = OpenStores(options.storage);
    if (!stores) return std::unexpected(stores.error());
    return {};
  });
  if (stop.stop_requested()) return 0;
  if (!opened) return fail(opened.error().message);
  options.settings.worker.visibility_timeout =
      std::chrono::seconds(options.storage.visibility_timeout_s);
  // Engine threads that leave cores over (workers sharing the machine) may split a batch
  // across them while the model is the bottleneck.
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t engine_threads = options.settings.engine_threads > 0
                                         ? static_cast<std::size_t>(options.settings.engine_threads)
                                         : cores;
  options.settings.worker.engine_runs = std::max<std::size_t>(1, cores / engine_threads);
  worker::DecodeAhead decode_ahead(worker::DecodeAheadFolder(options.storage.data_dir),
                                   **classifier, *stores->blobs, options.settings.worker.limits);
  if (!decode_ahead.Start()) {
    LogLine("warning", "worker", "cannot listen for uploads to decode ahead; decoding on receipt");
  }
  if (heartbeat) options.settings.worker.heartbeat = &*heartbeat;
  worker::Worker worker(**classifier, *stores->queue, *stores->catalog, *stores->blobs,
                        *stores->events, options.settings.worker, &decode_ahead);
  // The first full batch pays for the engine's allocations (0.3 s of page faults on the
  // 2-core VM), and the first burst for the worker's batch tensors. A worker started ahead
  // of demand pays both now, while nothing waits; one started for a backlog goes straight
  // to real work and pays on its first batches.
  if (auto stats = stores->queue->Stats(); stats && stats->ready == 0) {
    if (auto warm =
            (*classifier)->WarmUp(std::max<std::size_t>(1, options.settings.worker.max_batch));
        !warm) {
      return fail(warm.error().message);
    }
    worker.ReserveTensorBuffers();
  }
  data_dir->Keep();
  LogLine("info", "worker",
          "worker " + std::to_string(getpid()) + " ready with model " + manifest->name);
  worker.Run(stop.get_token());
  LogLine("info", "worker", "worker " + std::to_string(getpid()) + " stopped");
  return 0;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<WorkerCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "worker", "Run one worker process: take jobs from the queue, classify, store results");
  AddStorageOptions(*command, options->storage);
  AddWorkerSettings(*command, options->settings);
  // Not for people: the scaler passes the socket it hears the worker's heartbeat on.
  command->add_option("--heartbeat-fd", options->heartbeat_fd)
      ->group("")
      ->check(CLI::NonNegativeNumber);
  command->callback([options, &global, &exit_code] { exit_code = RunWorker(*options, global); });
}

}  // namespace argus::cli
