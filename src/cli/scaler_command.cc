#include <unistd.h>

#include <memory>

#include "cli/drogon_log.h"
#include "cli/service_commands.h"
#include "cli/service_options.h"
#include "cli/signals.h"
#include "cli/url_display.h"
#include "scaler/scaler.h"

namespace argus::cli {
namespace {

struct ScalerCommandOptions {
  StorageOptions storage;
  WorkerSettings settings;
  scaler::ScalingOptions scaling{
      .min_workers = 0,
      .max_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  int scale_in_cooldown_s = 30;
};

int RunScaler(ScalerCommandOptions& options, const GlobalOptions& global) {
  BlockTerminationSignals();
  LogDrogonAsJson();
  auto assets_dir = CheckWorkerAssets(global.assets_dir, options.settings);
  if (!assets_dir) {
    LogLine("error", "scaler", assets_dir.error().message);
    return 2;
  }
  auto data_dir = options.storage.Resolve();
  if (!data_dir) {
    LogLine("error", "scaler", data_dir.error().message);
    return 2;
  }
  auto queue = queue::OpenQueue(
      options.storage.queue_url,
      {.visibility_timeout = std::chrono::seconds(options.storage.visibility_timeout_s)});
  if (!queue) {
    LogLine("error", "scaler", "queue: " + queue.error().message);
    return 2;
  }
  options.scaling.scale_in_cooldown = std::chrono::seconds(options.scale_in_cooldown_s);
  scaler::WorkerPool pool(WorkerCommand(options.storage, options.settings, assets_dir->string(),
                                        options.scaling.max_workers),
                          WorkerEnvironment(environ, options.storage));
  scaler::Scaler scaler(**queue, pool, options.scaling);
  std::stop_source stop;
  auto watcher = WatchTerminationSignals([&stop] { stop.request_stop(); });
  data_dir->Keep();
  LogLine("info", "scaler", "following " + WithoutPassword(options.storage.queue_url));
  scaler.Run(stop.get_token());
  LogLine("info", "scaler", "stopped");
  return 0;
}

}  // namespace

void AddScalerCommand(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto options = std::make_shared<ScalerCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "scaler", "Start and stop worker processes on this machine as the queue's depth changes");
  AddStorageOptions(*command, options->storage);
  AddWorkerSettings(*command, options->settings);
  AddScalingOptions(*command, options->scaling, options->scale_in_cooldown_s);
  command->callback([command, options, &global, &exit_code] {
    SettleWorkerBounds(*command, options->scaling);
    exit_code = RunScaler(*options, global);
  });
}

}  // namespace argus::cli
