#include <drogon/drogon.h>
#include <json/json.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <format>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "api/handler_pool.h"
#include "api/http_errors.h"
#include "api/route_methods.h"
#include "api/routes.h"
#include "api/security_headers.h"
#include "cli/access_log.h"
#include "cli/connection_gate.h"
#include "cli/connection_watch.h"
#include "cli/drogon_log.h"
#include "cli/listen_address.h"
#include "cli/option_checks.h"
#include "cli/scaler_metrics.h"
#include "cli/service_commands.h"
#include "cli/service_options.h"
#include "cli/signals.h"
#include "cli/spool.h"
#include "cli/store_files_watch.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/periodic.h"
#include "engine/assets.h"
#include "engine/classification.h"
#include "image/probe.h"
#include "image/vips_init.h"
#include "scaler/scaler.h"
#include "worker/job.h"
#include "worker/job_marks.h"

namespace argus::cli {
namespace {

struct ServeOptions {
  std::string host = "0.0.0.0";
  int port = 8080;
  int http_threads = 0;
  int handler_threads = 16;
  std::size_t max_connections = 0;  // 0: the open-file limit less a reserve
  std::size_t max_request_bytes = std::size_t{256} * 1024 * 1024;
  StorageOptions storage;
  WorkerSettings settings;
  scaler::ScalingOptions scaling{
      .min_workers = 1,
      .max_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  int scale_in_cooldown_s = 30;
  api::ApiOptions api;
  int sync_timeout_s = 60;
  int drain_timeout_s = 30;
  std::int64_t anonymous_retention_s = std::int64_t{24} * 3600;
  std::string web_dir;
};

// Waits (at most 2 s) until each HTTP I/O loop has run what was queued on it so far: the
// answers just given to waiting clients are written from there, and a loop told to quit
// first could stop before writing them.
void FlushIoLoops() {
  auto& app = drogon::app();
  struct Count {
    std::mutex mutex;
    std::condition_variable flushed;
    std::size_t left = 0;
  };
  auto count = std::make_shared<Count>();  // outlives a wait that gives up
  count->left = app.getThreadNum();
  for (std::size_t i = 0; i < app.getThreadNum(); ++i) {
    app.getIOLoop(i)->queueInLoop([count] {
      const std::lock_guard lock(count->mutex);
      --count->left;
      count->flushed.notify_all();
    });
  }
  std::unique_lock lock(count->mutex);
  count->flushed.wait_for(lock, std::chrono::seconds(2), [&] { return count->left == 0; });
}

// The built web app: --web-dir, else web/dist beside the build folder of this binary; none
// (the API only) when that is missing too.
Result<std::filesystem::path> WebDir(const std::string& configured, std::string_view component) {
  std::error_code error;
  if (!configured.empty()) {
    if (!std::filesystem::is_regular_file(std::filesystem::path(configured) / "index.html",
                                          error)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "--web-dir " + configured +
                      " holds no built web app (index.html); `make build` builds it into web/dist");
    }
    return configured;
  }
  const auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
  auto beside = executable.parent_path().parent_path() / "web" / "dist";
  if (std::filesystem::is_regular_file(beside / "index.html", error)) return beside;
  LogLine("warning", component,
          "no built web app at " + beside.string() +
              ": serving the API only; --web-dir (ARGUS_WEB_DIR) names the web app's folder");
  return std::filesystem::path();
}

// Uploads normally get their job within milliseconds; one still without it after this long
// was left by a web process that died between storing it and enqueueing its job.
constexpr std::chrono::minutes kOrphanAge{1};
constexpr std::chrono::seconds kOrphanCheckPeriod{10};
// Request bodies spooled to disk are removed with their request; an hour-old one was left by
// a process that died (the largest body at a slow client's pace takes minutes, not hours).
constexpr std::chrono::minutes kSpoolCheckPeriod{10};
constexpr std::chrono::minutes kSpoolFileAge{60};
// Objects of no image: an upload's bytes are recorded within milliseconds of being stored, so
// ones unrecorded for an hour were left by a crash or a catalog outage. The sweep lists the
// whole blob store, so it runs seldom.
constexpr std::chrono::hours kUnrecordedObjectAge{1};
constexpr std::chrono::hours kUnrecordedObjectCheckPeriod{1};
// How often connections receiving a request are checked for clients sending too slowly.
constexpr std::chrono::seconds kSlowSenderCheckPeriod{5};
// How long the catalog's marks of enqueued jobs may lag (worker::JobMarks): far below the
// orphan age, and long enough that a burst of uploads shares a statement.
constexpr std::chrono::milliseconds kJobMarkInterval{50};
// How long a stop waits for the requests under way once waiting clients are answered: their
// stores' own timeouts bound them (5 s for a JetStream request, 10 s for a stalled S3 one).
constexpr std::chrono::seconds kHandlerDrainTimeout{15};
// A connection that received data this recently is taken to be receiving a request, one
// quiet for longer to be kept alive between requests.
constexpr std::chrono::seconds kStillReceiving{1};
// Between attempts to index stored results again while the catalog fails.
constexpr std::chrono::milliseconds kReindexRetryPause{30'000};
constexpr std::size_t kReindexProgressEvery = 10'000;
// The request attribute that marks a request logged and counted, by whichever advice came
// first.
// Requests in hand per handler thread, queued and running, above which new ones get 503: far
// above a burst's (the course workload's 100 concurrent uploads), and low enough that what a
// flood leaves queued fits in memory (bodies up to 1 MiB are held there).
constexpr std::size_t kHandlerBacklogPerThread = 64;

// Once per catalog: results stored before a change to the rule of the search terms are
// found by the words the rule adds only once indexed again. This runs beside the server,
// which answers meanwhile: a large catalog takes minutes (docs/BENCHMARKS.md), longer than
// orchestrators wait for a start. Until it ends, searches find the older results by their
// labels and categories only. A catalog that fails is tried again after a pause.
void ReindexSearchTerms(catalog::Catalog& catalog, std::string_view component,
                        const std::stop_token& stop) {
  const auto terms_of = [](std::string_view result_json) {
    return engine::SearchTermsOfResultJson(result_json);
  };
  while (true) {
    // A large catalog takes minutes: its operator sees it advance.
    std::size_t next_report = kReindexProgressEvery;
    const auto progress = [&next_report, component](std::size_t so_far) {
      if (so_far < next_report) return;
      LogLine("info", component, std::to_string(so_far) + " stored results indexed again so far");
      next_report = so_far - so_far % kReindexProgressEvery + kReindexProgressEvery;
    };
    auto reindexed = catalog::ReindexOutdatedSearchTerms(catalog, terms_of, stop, progress);
    if (reindexed && *reindexed > 0) {
      LogLine("info", component,
              std::to_string(*reindexed) +
                  (stop.stop_requested()
                       ? " stored results indexed again before the stop; the next start goes on"
                       : " stored results indexed again with today's search terms"));
    }
    if (reindexed) return;
    LogLine("error", component,
            "search terms: " + reindexed.error().message + "; indexing stored results again later");
    if (!PauseUnlessStopped(kReindexRetryPause, stop)) return;
  }
}

// Jobs whose enqueue a crash interrupted are enqueued again, and so are jobs an empty queue
// lost; jobs are idempotent.
Result<std::size_t> RecoverUnqueuedImages(Stores& stores, std::int64_t uploaded_before_ms) {
  auto stats = stores.queue->Stats();
  if (!stats) return std::unexpected(stats.error());
  if (stats->ready + stats->in_flight == 0) {
    if (auto forgotten = stores.catalog->ForgetLostJobs(uploaded_before_ms); !forgotten) {
      return std::unexpected(forgotten.error());
    }
  }
  auto awaiting = stores.catalog->ImagesAwaitingJob(uploaded_before_ms);
  if (!awaiting) return std::unexpected(awaiting.error());
  for (const catalog::JobMark& image : *awaiting) {
    if (auto enqueued = worker::EnqueueJob(*stores.queue, image.image_id, NowMs()); !enqueued) {
      return std::unexpected(enqueued.error());
    }
  }
  if (auto marked = stores.catalog->MarkEnqueued(*awaiting); !marked) {
    return std::unexpected(marked.error());
  }
  return awaiting->size();
}

// Status changes from workers wake waiting clients.
void Notify(const worker::WorkerEvent& event, api::EventHub& hub) {
  if (const auto* images = std::get_if<std::vector<worker::ImageEvent>>(&event)) {
    for (const worker::ImageEvent& image : *images) {
      hub.OnStatus(image.image_id, image.status, image.top_label, image.owner);
    }
  }
}

// Finished images and batch facts feed the metrics.
void Count(const worker::WorkerEvent& event, api::Metrics& metrics) {
  if (const auto* images = std::get_if<std::vector<worker::ImageEvent>>(&event)) {
    for (const worker::ImageEvent& image : *images) metrics.CountImage(image);
  } else {
    metrics.ObserveBatch(std::get<worker::BatchEvent>(event));
  }
}

// An event handler for the bus: `use` gets each payload's event; other payloads are ignored.
template <typename Use>
std::function<void(std::string_view)> Decoding(Use use) {
  return [use = std::move(use)](std::string_view payload) {
    if (auto event = worker::DecodeWorkerEvent(payload)) use(*event);
  };
}

// Where every web replica hears every event (NATS), each event is counted by one replica
// only, through a queue group they all join, so that the replicas' metrics add up.
struct EventSubscriptions {
  std::unique_ptr<events::Subscription> notify;
  std::unique_ptr<events::Subscription> count;
};

Result<EventSubscriptions> SubscribeToWorkers(events::EventBus& bus, api::EventHub& hub,
                                              api::Metrics& metrics) {
  EventSubscriptions subscriptions;
  metrics.CountWorkFromNow();
  if (!bus.ReachesEverySubscriber()) {
    auto both = bus.Subscribe(Decoding([&hub, &metrics](const worker::WorkerEvent& event) {
      Notify(event, hub);
      Count(event, metrics);
    }));
    if (!both) return std::unexpected(both.error());
    subscriptions.notify = std::move(*both);
    return subscriptions;
  }
  auto notify =
      bus.Subscribe(Decoding([&hub](const worker::WorkerEvent& event) { Notify(event, hub); }));
  if (!notify) return std::unexpected(notify.error());
  auto count = bus.SubscribeInGroup(
      "argus-metrics",
      Decoding([&metrics](const worker::WorkerEvent& event) { Count(event, metrics); }));
  if (!count) return std::unexpected(count.error());
  subscriptions.notify = std::move(*notify);
  subscriptions.count = std::move(*count);
  return subscriptions;
}

Json::Value ScalerJson(const scaler::ScalerStatus& status) {
  Json::Value json(Json::objectValue);
  json["desired"] = status.desired;
  json["running"] = status.running;
  json["stopping"] = status.stopping;
  json["crashes"] = static_cast<Json::UInt64>(status.crashes);
  json["stalls"] = static_cast<Json::UInt64>(status.stalls);
  json["failed_starts"] = status.failed_starts;
  if (status.idle_cores) json["idle_cores"] = *status.idle_cores;
  json["worker_pids"] = Json::Value(Json::arrayValue);
  for (int pid : status.worker_pids) json["worker_pids"].append(pid);
  json["decisions"] = Json::Value(Json::arrayValue);
  for (const scaler::TimedDecision& timed : status.recent_decisions) {
    Json::Value decision(Json::objectValue);
    decision["at_ms"] = static_cast<Json::Int64>(timed.at_ms);
    decision["action"] = std::string(scaler::ActionName(timed.decision.action));
    decision["from"] = timed.decision.from;
    decision["to"] = timed.decision.to;
    decision["depth"] = static_cast<Json::UInt64>(timed.decision.depth);
    decision["reason"] = timed.decision.reason;
    json["decisions"].append(decision);
  }
  return json;
}

constexpr std::size_t kJsonRefusalMargin = std::size_t{16} * 1024 * 1024;
// Drogon refuses a request line with a bare 414 only once 64 KiB of it are read without its
// end (docs/ARCHITECTURE.md); a longer URI that arrives whole, and one over this limit, get
// the JSON error from the advice below.
constexpr std::size_t kMaxUriBytes = std::size_t{8} * 1024;

// Connections beyond which new ones are closed at once, so that clients cannot use up the
// descriptors the stores, the spool and the workers' sockets need: the open-file limit, raised
// to its maximum, less an eighth (at least 256) kept for those.
std::size_t ConnectionLimit(std::size_t asked) {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &files) != 0) (void)::getrlimit(RLIMIT_NOFILE, &files);
  }
  const std::size_t open_files = files.rlim_cur == RLIM_INFINITY
                                     ? std::size_t{1} << 20
                                     : static_cast<std::size_t>(files.rlim_cur);
  const std::size_t reserve = std::max<std::size_t>(256, open_files / 8);
  const std::size_t most = open_files > reserve + 64 ? open_files - reserve : 64;
  return asked == 0 ? most : std::min(asked, most);
}

void ConfigureHttp(const ServeOptions& options, api::Metrics& metrics,
                   const std::atomic<bool>& draining, ConnectionWatch& connections) {
  auto& app = drogon::app();
  // Not Drogon's limit per client address: in 1.9 it closed connections under the limit and
  // let others over it through, as its count went wrong with each connection it closed.
  app.setMaxConnectionNum(ConnectionLimit(options.max_connections));
  const int threads = options.http_threads > 0
                          ? options.http_threads
                          : static_cast<int>(std::max(2u, 2 * std::thread::hardware_concurrency()));
  app.addListener(options.host, static_cast<std::uint16_t>(options.port))
      .setThreadNum(static_cast<std::size_t>(threads))
      // Drogon answers a body over its own limit with a bare 413 as soon as the headers
      // announce it; a body a little over ours is read, spooled, and answered by the advice
      // below with the JSON error. The margin bounds what a refused request may write to
      // disk (four times the limit, as before, let one request spool a gigabyte).
      .setClientMaxBodySize(std::min(options.max_request_bytes,
                                     std::numeric_limits<std::size_t>::max() - kJsonRefusalMargin) +
                            kJsonRefusalMargin)
      .setClientMaxMemoryBodySize(std::size_t{1024} * 1024)  // larger bodies are spooled to files
      .setUploadPath(options.storage.data_dir + "/tmp")
      .setIdleConnectionTimeout(120)
      // Confidences and timings to six significant digits, not 0.85550499999999996.
      .setFloatPrecisionInJson(6)
      .disableSigtermHandling();
  api::AnswerFrameworkErrorsAsJson();
  LogEveryRequest(
      options.api.trusted_proxies,
      [&metrics](const std::string& route, const std::string& method, int status, double seconds) {
        metrics.ObserveRequest(route, method, status, seconds);
      });
  app.registerPreRoutingAdvice([max = options.max_request_bytes, &connections](
                                   const drogon::HttpRequestPtr& request,
                                   drogon::AdviceCallback&& respond,
                                   drogon::AdviceChainCallback&& next) {
    if (!connections.RequestArrived(request->peerAddr().getSockAddr())) {
      // The connection is shut: this answer goes nowhere, and is only counted.
      return respond(api::ErrorResponse(drogon::k429TooManyRequests, "answers_unread",
                                        "requests sent without reading the answers"));
    }
    if (request->path().size() + request->query().size() > kMaxUriBytes) {
      return respond(api::ErrorResponse(
          drogon::k414RequestURITooLarge, "uri_too_long",
          std::format("the path and query are over the limit of {} bytes", kMaxUriBytes)));
    }
    if (request->bodyLength() > max) {
      return respond(
          api::ErrorResponse(drogon::k413RequestEntityTooLarge, "too_large",
                             std::format("the request body is over the limit of {} bytes", max)));
    }
    if (api::IsMalformedApiPath(request->path())) {
      return respond(api::ErrorResponse(drogon::k404NotFound, "not_found",
                                        "no such route (an API path has no empty segment and no "
                                        "trailing slash)"));
    }
    // Drogon reads such a body by its Content-Length, where RFC 9112 (section 6.1) has the
    // chunked framing win, so a proxy in front would see another request boundary than ours
    // (request smuggling). Such a request is not served (docs/ARCHITECTURE.md).
    if (!request->getHeader("transfer-encoding").empty() &&
        !request->getHeader("content-length").empty()) {
      return respond(
          api::ErrorResponse(drogon::k400BadRequest, "invalid_argument",
                             "a request may not have both Transfer-Encoding and Content-Length"));
    }
    next();
  });
  app.registerPreSendingAdvice(
      [&draining](const drogon::HttpRequestPtr& request, const drogon::HttpResponsePtr& response) {
        api::AddSecurityHeaders(request, response);
        // A stopping server closes each connection after its answer, so that a client's next
        // request goes on a new connection, which the shut gate refuses cleanly, rather than on
        // one the server is about to drop.
        if (draining) response->setCloseConnection(true);
      });
}

// A periodic sweep's outcome: its failure, named by `what`, or what it removed, as `told`
// words the count, when it removed anything.
void LogSweep(std::string_view component, std::string_view what, const Result<std::size_t>& removed,
              const std::function<std::string(std::size_t)>& told) {
  if (!removed) {
    LogLine("error", component, std::string(what) + ": " + removed.error().message);
  } else if (*removed > 0) {
    LogLine("info", component, told(*removed));
  }
}

int RunWebTier(ServeOptions& options, const GlobalOptions& global, bool with_workers) {
  BlockTerminationSignals();
  const std::string_view component = with_workers ? "serve" : "web";
  image::LogVipsWarnings();
  LogDrogonAsJson();
  auto fail = [component](const std::string& message) {
    LogLine("error", component, message);
    return 2;
  };
  if (auto port = CheckPortFree("--host", options.host, options.port); !port)
    return fail(port.error().message);
  // The workers' model first: without it the service does not start, and a warning about
  // breed photos before that refusal would only mislead.
  std::string assets_dir;
  if (with_workers) {
    auto checked = CheckWorkerAssets(global.assets_dir, options.settings);
    if (!checked) return fail(checked.error().message);
    assets_dir = checked->string();
  }
  if (auto resolved = engine::ResolveAssetsDir(global.assets_dir); resolved) {
    options.api.assets_dir = *resolved;
  }
  if (std::error_code error;
      !std::filesystem::is_directory(options.api.assets_dir / "breeds", error)) {
    LogLine("warning", component,
            options.api.assets_dir.empty()
                ? "no assets directory: spirit dogs are shown without their reference photo "
                  "(--assets-dir; scripts/fetch-assets --with-breeds fetches the photos)"
                : "no breeds/ in " + options.api.assets_dir.string() +
                      ": spirit dogs are shown without their reference photo "
                      "(scripts/fetch-assets --with-breeds fetches them)");
  }
  auto web_dir = WebDir(options.web_dir, component);
  if (!web_dir) return fail(web_dir.error().message);
  options.api.web_dir = *web_dir;
  if (auto whole = options.storage.CheckCatalogNotLost(/*queue_shows_a_service=*/true); !whole)
    return fail(whole.error().message);
  auto data_dir = options.storage.Resolve();
  if (!data_dir) return fail(data_dir.error().message);
  const std::string spool_dir = options.storage.data_dir + "/tmp";
  if (std::error_code error; !std::filesystem::create_directories(spool_dir, error) && error) {
    return fail("cannot create " + spool_dir + " for request bodies: " + error.message());
  }
  // What a process killed mid-upload left, once no request can still be using it.
  Periodic spool_cleanup(kSpoolCheckPeriod, [&spool_dir, component] {
    if (const std::size_t removed = RemoveStaleSpoolFiles(spool_dir, kSpoolFileAge); removed > 0) {
      LogLine("info", component, std::to_string(removed) + " stale request-body files removed");
    }
  });
  Result<Stores> stores;
  const auto opened = RetryWhileUnavailableUnlessSignalled(component, [&]() -> Result<void> {
    stores = OpenStores(options.storage);
    if (!stores) return std::unexpected(stores.error());
    return {};
  });
  if (!opened) {
    LogLine("info", component, "stopped while waiting for the stores");
    return 0;
  }
  if (!*opened) return fail(opened->error().message);
  // Otherwise every download would try to presign, log its failure and send the bytes.
  if (options.api.presigned_downloads) {
    if (auto presigned = stores->blobs->PresignedGetUrl("probe", std::chrono::seconds(60));
        !presigned && presigned.error().code == ErrorCode::kInvalidArgument) {
      return fail("--presigned-downloads: " + presigned.error().message + " (--blobs s3://...)");
    }
  }
  auto recovered = RecoverUnqueuedImages(*stores, NowMs());
  if (!recovered) return fail("recovery: " + recovered.error().message);
  if (*recovered > 0) {
    LogLine("warning", component, std::to_string(*recovered) + " images re-enqueued after a crash");
  }
  // Another web replica may die mid-upload while this one runs.
  Periodic orphan_recovery(kOrphanCheckPeriod, [&stores, component] {
    auto orphans =
        RecoverUnqueuedImages(*stores, NowMs() - std::chrono::milliseconds(kOrphanAge).count());
    if (!orphans) {
      LogLine("error", component, "recovery: " + orphans.error().message);
    } else if (*orphans > 0) {
      LogLine("warning", component,
              std::to_string(*orphans) +
                  " images re-enqueued that had no job for a minute, or whose job the queue lost");
    }
  });

  api::EventHub hub;
  api::Metrics metrics;
  auto subscriptions = SubscribeToWorkers(*stores->events, hub, metrics);
  if (!subscriptions) return fail(subscriptions.error().message);

  options.api.limits = options.settings.worker.limits;
  options.api.sync_timeout = std::chrono::seconds(options.sync_timeout_s);
  options.api.upload_durability = options.storage.durability;
  options.api.durability_applies = options.storage.DurabilityApplies();
  options.api.decode_ahead_folder = worker::DecodeAheadFolder(options.storage.data_dir);
  worker::JobMarks job_marks(*stores->catalog, kJobMarkInterval);
  const auto handler_threads = static_cast<std::size_t>(options.handler_threads);
  api::HandlerPool handlers(handler_threads, kHandlerBacklogPerThread * handler_threads);
  StoreFilesWatch store_files({{.name = "catalog", .url = options.storage.catalog_url},
                               {.name = "queue", .url = options.storage.queue_url}});
  auto context =
      std::make_shared<api::ApiContext>(*stores->catalog, *stores->queue, job_marks, *stores->blobs,
                                        *stores->events, hub, metrics, handlers, options.api);
  context->stores_lost = [&store_files] { return store_files.Lost(); };

  // A deletion of an account that failed part-way left photos that no one can delete.
  Periodic deleted_users_sweep(
      kOrphanCheckPeriod, [&context, component](const std::stop_token& stop) {
        LogSweep(component, "photos of deleted accounts",
                 context->RemovePhotosOfDeletedUsers({.stop = stop}), [](std::size_t removed) {
                   return std::to_string(removed) + " photos of deleted accounts removed";
                 });
      });

  // Photos sent without an account belong to no one, so no one else ever deletes them.
  const std::chrono::seconds anonymous_retention(options.anonymous_retention_s);
  std::optional<Periodic> anonymous_sweep;
  if (anonymous_retention.count() > 0) {
    anonymous_sweep.emplace(
        std::clamp<std::chrono::seconds>(anonymous_retention / 4, std::chrono::seconds(1),
                                         kOrphanCheckPeriod),
        [&context, anonymous_retention, component](const std::stop_token& stop) {
          // A stop need not wait for a sweep of thousands of photos, which takes seconds.
          LogSweep(
              component, "anonymous uploads",
              context->RemoveAnonymousUploadsBefore(
                  NowMs() - std::chrono::milliseconds(anonymous_retention).count(), {.stop = stop}),
              [anonymous_retention](std::size_t removed) {
                return std::format(
                    "{} photos sent without an account removed, older than {} s "
                    "(--anonymous-retention)",
                    removed, anonymous_retention.count());
              });
        });
  }

  Periodic unrecorded_objects_sweep(
      kUnrecordedObjectCheckPeriod, [&context, component](const std::stop_token& stop) {
        LogSweep(component, "objects of no image",
                 context->RemoveObjectsOfNoImage(
                     std::chrono::system_clock::now() - kUnrecordedObjectAge, {.stop = stop}),
                 [](std::size_t removed) {
                   return std::format(
                       "{} objects of no image removed from the blob store (bytes of uploads a "
                       "crash or a catalog outage kept from being recorded)",
                       removed);
                 });
      });

  std::unique_ptr<scaler::WorkerPool> pool;
  std::unique_ptr<scaler::Scaler> scaler;
  if (with_workers) {
    options.scaling.scale_in_cooldown = std::chrono::seconds(options.scale_in_cooldown_s);
    pool = std::make_unique<scaler::WorkerPool>(
        WorkerCommand(options.storage, options.settings, assets_dir, options.scaling.max_workers),
        WorkerEnvironment(environ, options.storage));
    scaler = std::make_unique<scaler::Scaler>(*stores->queue, *pool, options.scaling);
    context->scaler_status = [&scaler] { return ScalerJson(scaler->Status()); };
  }
  image::PrepareToProbe();
  api::RegisterRoutes(context);
  ConnectionWatch connections(static_cast<std::uint16_t>(options.port), {});
  ConfigureHttp(options, metrics, context->draining, connections);
  Periodic slow_senders(kSlowSenderCheckPeriod, [&connections, component] {
    if (const int shut = connections.ShutSlowSenders(); shut > 0) {
      LogLine("warning", component,
              std::format("{} connections shut: their requests came slower than 1 KiB/s", shut));
    }
  });

  std::jthread scaling;
  std::jthread metrics_pump;
  std::jthread reindexing;
  std::jthread drain;
  std::jthread watcher;
  // Threads that use the database start once Drogon has finished starting up.
  // (See docs/ARCHITECTURE.md, "Known issue": a crash inside Drogon during start-up.)
  drogon::app().registerBeginningAdvice([&] {
    // Stopping drains the HTTP I/O loops and quits Drogon, which both need Drogon running: a
    // signal that comes earlier waits, blocked, for the watcher started here (a stop in the
    // first 150 ms of a start crashed, and Drogon ignores a quit before its run).
    watcher = WatchTerminationSignals([&] {
      LogLine("info", component, "stopping: refusing new uploads, answering waiting clients");
      context->draining = true;
      if (scaler) scaler->Drain();
      drain = std::jthread([&hub, &handlers, &connections, &context, component,
                            port = static_cast<std::uint16_t>(options.port),
                            drain_timeout = std::chrono::seconds(options.drain_timeout_s)] {
        const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
        // Not for clients that have hung up (a client's or a proxy's timeout): no one
        // would read their answer, and the stop took the whole drain timeout.
        const auto connected = [&connections](const std::string& peer) {
          return connections.IsConnected(peer);
        };
        while (hub.ClientsStillWaiting(connected) > 0 &&
               std::chrono::steady_clock::now() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        // From here on no connection is taken, and the ones taken are answered before
        // Drogon quits.
        if (auto shut = ShutConnectionGate(port); !shut) {
          LogLine("warning", component, shut.error().message);
        }
        // The clients still waiting get what there is: the image as it stands, a 503 for
        // POST /, an event stream the id to resume from.
        hub.Close();
        // The render under way finishes, the thumbnails still waiting are answered 503.
        context->thumbnails.Stop();
        // Requests still arriving on the connections taken before the gate shut (an
        // upload of some megabytes) are received and answered; then the requests under
        // way finish. Both are bounded by their stores' timeouts.
        const auto handled_by = std::chrono::steady_clock::now() + kHandlerDrainTimeout;
        while (ConnectionsReceivingOn(port, kStillReceiving) > 0 &&
               std::chrono::steady_clock::now() < handled_by) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        handlers.WaitUntilIdle(handled_by);
        FlushIoLoops();
        drogon::app().quit();
      });
    });
    if (scaler)
      scaling = std::jthread([&scaler](const std::stop_token& stop) { scaler->Run(stop); });
    reindexing = std::jthread([&stores, component](const std::stop_token& stop) {
      ReindexSearchTerms(*stores->catalog, component, stop);
    });
    metrics_pump = std::jthread([&](const std::stop_token& stop) {
      while (!stop.stop_requested()) {
        if (auto stats = context->QueueStats()) metrics.SetQueue(*stats);
        metrics.SetHandlerBacklog(handlers.tried_unfinished(), handlers.max_unfinished());
        if (scaler) ExportScalerStatus(scaler->Status(), metrics);
        std::this_thread::sleep_for(kMetricsInterval);
      }
    });
  });
  LogLine("info", component,
          "listening on http://" + HostAndPort(options.host, options.port) +
              (with_workers ? " with " + std::to_string(options.scaling.min_workers) + ".." +
                                  std::to_string(options.scaling.max_workers) + " workers"
                            : std::string(" (web tier only)")));
  data_dir->Keep();
  drogon::app().run();

  metrics_pump.request_stop();
  reindexing.request_stop();
  if (scaling.joinable()) {
    scaling.request_stop();
    scaling.join();  // stops the workers; each finishes the batch in hand
  }
  LogLine("info", component, "stopped");
  return 0;
}

void AddServeOptions(CLI::App& command, ServeOptions& options, bool with_workers) {
  command.add_option("--host", options.host, "Address to listen on, IPv4 or IPv6 (0.0.0.0, ::)")
      ->envname("ARGUS_HOST")
      ->capture_default_str();
  command.add_option("-p,--port", options.port, "Port to listen on")
      ->envname("ARGUS_PORT")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  command.add_option("--http-threads", options.http_threads, "HTTP I/O threads (0: two per core)")
      ->envname("ARGUS_HTTP_THREADS")
      ->check(CLI::Range(0, 256));
  command
      .add_option("--max-connections", options.max_connections,
                  "Connections held at once, beyond which new ones are closed (0: the open-file "
                  "limit less an eighth, kept for the stores)")
      ->envname("ARGUS_MAX_CONNECTIONS")
      ->check(WholeNumberUpTo(1 << 20));
  command
      .add_option("--handler-threads", options.handler_threads,
                  "Threads for request handlers that wait on the stores or hash passwords")
      ->envname("ARGUS_HANDLER_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  AcceptSizeWithUnit(*command
                          .add_option("--max-request-bytes", options.max_request_bytes,
                                      "Largest request body (all files of one upload; units: "
                                      "256MiB, 256MB)")
                          ->envname("ARGUS_MAX_REQUEST_BYTES")
                          ->capture_default_str());
  command
      .add_option("--max-queue-depth", options.api.max_queue_depth,
                  "Waiting jobs above which uploads get 503 + Retry-After")
      ->envname("ARGUS_MAX_QUEUE_DEPTH")
      ->check(AtLeastOne())
      ->capture_default_str();
  command
      .add_option("--sync-timeout", options.sync_timeout_s,
                  "Seconds POST / waits for its result before answering 504")
      ->envname("ARGUS_SYNC_TIMEOUT")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  command
      .add_option("--drain-timeout", options.drain_timeout_s,
                  "Seconds a stopping server (SIGTERM) waits for the results its waiting "
                  "clients want before answering them with what it has")
      ->envname("ARGUS_DRAIN_TIMEOUT")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  command
      .add_option("--anonymous-retention", options.anonymous_retention_s,
                  "Seconds a photo sent to POST / without an account is kept (its labels answer "
                  "the same photo sent again at once), before it is deleted; 0 keeps them")
      ->envname("ARGUS_ANONYMOUS_RETENTION")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{10} * 365 * 24 * 3600))
      ->capture_default_str();
  command
      .add_option("--web-dir", options.web_dir,
                  "The built web app to serve (default: web/dist beside the build folder)")
      ->envname("ARGUS_WEB_DIR");
  command
      .add_option_function<std::string>(
          "--trusted-proxies",
          [&options](const std::string& list) {
            options.api.trusted_proxies = *api::TrustedProxies::Parse(list);
          },
          "Load balancers in front of this server, as addresses and networks (10.0.0.0/8,"
          "fd00::/8): a request from one of them is taken to come from the client its "
          "X-Forwarded-For names, for the log-in limit and the access log")
      ->envname("ARGUS_TRUSTED_PROXIES")
      ->check([](const std::string& list) {
        auto parsed = api::TrustedProxies::Parse(list);
        return parsed ? std::string() : parsed.error().message;
      });
  command
      .add_flag("--presigned-downloads", options.api.presigned_downloads,
                "Redirect file and thumbnail downloads to presigned URLs of the S3 blob store "
                "(clients must be able to reach it)")
      ->envname("ARGUS_PRESIGNED_DOWNLOADS");
  command
      .add_flag("!--no-anonymous-classify", options.api.allow_anonymous_classify,
                "Disable the account-free POST / and POST /classify endpoints (in the "
                "environment: ARGUS_ANONYMOUS_CLASSIFY=false)")
      ->envname("ARGUS_ANONYMOUS_CLASSIFY");
  AddStorageOptions(command, options.storage);
  if (with_workers) {
    AddWorkerSettings(command, options.settings);
    AddScalingOptions(command, options.scaling, options.scale_in_cooldown_s);
  } else {
    AddImageLimitOptions(command, options.settings.worker.limits);
  }
}

}  // namespace

void AddServeCommands(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  for (const bool with_workers : {true, false}) {
    auto options = std::make_shared<ServeOptions>();
    CLI::App* command =
        with_workers ? app.add_subcommand("serve",
                                          "Run the whole service on this machine: web tier, queue, "
                                          "autoscaled workers, catalog and blob store")
                     : app.add_subcommand("web", "Run only the web tier (workers run elsewhere)");
    AddServeOptions(*command, *options, with_workers);
    command->callback([command, options, &global, &exit_code, with_workers] {
      if (with_workers) SettleWorkerBounds(*command, options->scaling);
      exit_code = RunWebTier(*options, global, with_workers);
    });
  }
}

}  // namespace argus::cli
