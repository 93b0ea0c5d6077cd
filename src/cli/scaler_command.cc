#include <drogon/drogon.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "api/http_errors.h"
#include "api/metrics.h"
#include "api/route_methods.h"
#include "api/routes.h"
#include "api/trusted_proxies.h"
#include "cli/access_log.h"
#include "cli/drogon_log.h"
#include "cli/listen_address.h"
#include "cli/scaler_metrics.h"
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
  // Not --host and --port: one settings file often serves the web tier and the scaler of a
  // machine (deploy/systemd/argus.env.example), and they must not take the same port.
  std::string metrics_host = "0.0.0.0";
  int metrics_port = 8081;
};

int RunScaler(ScalerCommandOptions& options, const GlobalOptions& global) {
  BlockTerminationSignals();
  LogDrogonAsJson();
  auto fail = [](const std::string& message) {
    LogLine("error", "scaler", message);
    return 2;
  };
  if (auto port = CheckPortFree("--metrics-host", options.metrics_host, options.metrics_port);
      !port) {
    return fail(port.error().message);
  }
  auto assets_dir = CheckWorkerAssets(global.assets_dir, options.settings);
  if (!assets_dir) return fail(assets_dir.error().message);
  if (auto made = options.storage.CheckDataDirExists("scaler"); !made) {
    return fail(made.error().message);
  }
  if (auto whole = options.storage.CheckCatalogNotLost(/*queue_shows_a_service=*/false); !whole) {
    return fail(whole.error().message);
  }
  auto data_dir = options.storage.Resolve();
  if (!data_dir) return fail(data_dir.error().message);
  Result<std::unique_ptr<queue::Queue>> queue;
  const auto opened = RetryWhileUnavailableUnlessSignalled("scaler", [&]() -> Result<void> {
    queue = queue::OpenQueue(
        options.storage.queue_url,
        {.visibility_timeout = std::chrono::seconds(options.storage.visibility_timeout_s)});
    if (!queue) return Fail(queue.error().code, "queue: " + queue.error().message);
    return {};
  });
  if (!opened) {
    LogLine("info", "scaler", "stopped while waiting for the queue");
    return 0;
  }
  if (!*opened) return fail(opened->error().message);
  options.scaling.scale_in_cooldown = std::chrono::seconds(options.scale_in_cooldown_s);
  scaler::WorkerPool pool(WorkerCommand(options.storage, options.settings, assets_dir->string(),
                                        options.scaling.max_workers),
                          WorkerEnvironment(environ, options.storage));
  scaler::Scaler scaler(**queue, pool, options.scaling);

  api::Metrics metrics;
  api::RegisterHealthAndMetricsRoutes(metrics);
  // As the web tier answers: JSON errors, 405 with Allow, OPTIONS, and an access line each.
  api::AnswerWithAllowedMethods();
  api::AnswerFrameworkErrorsAsJson();
  static const api::TrustedProxies kNoProxies;
  LogEveryRequest(kNoProxies);
  drogon::app()
      .addListener(options.metrics_host, static_cast<std::uint16_t>(options.metrics_port))
      .setThreadNum(1)
      .setUploadPath(options.storage.data_dir + "/tmp")
      .disableSigtermHandling();
  std::jthread scaling;
  std::jthread metrics_pump;
  std::jthread watcher;
  // Threads that use the queue start once Drogon has finished starting up, as in `serve`:
  // the embedded queue is a Drogon SQLite client. So does the signal watcher: Drogon ignores
  // a quit before its run, and the signals stayed blocked for good.
  drogon::app().registerBeginningAdvice([&] {
    watcher = WatchTerminationSignals([] { drogon::app().quit(); });
    scaling = std::jthread([&scaler](const std::stop_token& stop) { scaler.Run(stop); });
    metrics_pump = std::jthread([&scaler, &metrics](const std::stop_token& stop) {
      while (!stop.stop_requested()) {
        const scaler::ScalerStatus status = scaler.Status();
        ExportScalerStatus(status, metrics);
        if (status.queue) metrics.SetQueue(*status.queue);
        std::this_thread::sleep_for(kMetricsInterval);
      }
    });
  });
  data_dir->Keep();
  LogLine("info", "scaler",
          "following " + WithoutPassword(options.storage.queue_url) + "; metrics on http://" +
              HostAndPort(options.metrics_host, options.metrics_port) + "/metrics");
  drogon::app().run();

  metrics_pump.request_stop();
  if (scaling.joinable()) {
    scaling.request_stop();
    scaling.join();  // stops the workers; each finishes the batch in hand
  }
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
  command
      ->add_option("--metrics-host", options->metrics_host,
                   "Address of /metrics and /healthz, IPv4 or IPv6 (0.0.0.0, ::)")
      ->envname("ARGUS_METRICS_HOST")
      ->capture_default_str();
  command->add_option("--metrics-port", options->metrics_port, "Port of /metrics and /healthz")
      ->envname("ARGUS_METRICS_PORT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  command->callback([command, options, &global, &exit_code] {
    SettleWorkerBounds(*command, options->scaling);
    exit_code = RunScaler(*options, global);
  });
}

}  // namespace argus::cli
