#include <algorithm>
#include <memory>
#include <optional>
#include <stop_token>
#include <thread>

#include "cli/drogon_log.h"
#include "cli/service_commands.h"
#include "cli/service_options.h"
#include "cli/signals.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/repeated_messages.h"
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

// The stores, waited for while one of them is down (kUnavailable: a database restarting, a
// failover), as a running worker waits through an outage: a worker that exited was counted
// as a crash by its scaler, restarted with a back-off, and came up seconds after the store
// did. Beats meanwhile, and gives up when told to stop, returning the last failure.
Result<Stores> OpenStoresWhenUp(const StorageOptions& storage, worker::Heartbeat* heartbeat,
                                const std::stop_token& stop) {
  constexpr std::chrono::seconds kRetryPause{1};
  RepeatedMessages waiting(std::chrono::seconds(30));
  for (;;) {
    if (heartbeat != nullptr) heartbeat->Beat();
    auto stores = OpenStores(storage);
    if (stores || stores.error().code != ErrorCode::kUnavailable) return stores;
    if (const auto held_back = waiting.Admit(stores.error().message)) {
      LogLine("warning", "worker",
              WithCopiesHeldBack("waiting for the stores: " + stores.error().message, *held_back));
    }
    if (!PauseUnlessStopped(kRetryPause, stop)) return stores;
  }
}

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
  auto stores =
      OpenStoresWhenUp(options.storage, heartbeat ? &*heartbeat : nullptr, stop.get_token());
  if (stop.stop_requested()) return 0;
  if (!stores) return fail(stores.error().message);
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
