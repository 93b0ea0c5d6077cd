#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "common/durability.h"
#include "common/error.h"
#include "common/log.h"
#include "events/event_bus.h"
#include "queue/queue.h"
#include "scaler/scaling_policy.h"
#include "worker/worker.h"

namespace argus::cli {

// The data directory of a starting process. The folders a start had to create are removed
// again when it fails (the guard is destroyed without Keep), so that a start refused for a
// port in use, a missing model or a store it cannot open leaves the file system as it was.
class DataDirectory {
 public:
  // Creates `path` and its missing parents; kIo when that fails or the folder cannot be
  // written in.
  static Result<DataDirectory> Create(const std::filesystem::path& path);
  DataDirectory(DataDirectory&& other) noexcept;
  DataDirectory(const DataDirectory&) = delete;
  DataDirectory& operator=(const DataDirectory&) = delete;
  DataDirectory& operator=(DataDirectory&&) = delete;
  ~DataDirectory();

  // The start has succeeded: what it created stays.
  void Keep() { created_.clear(); }

 private:
  explicit DataDirectory(std::filesystem::path created) : created_(std::move(created)) {}
  std::filesystem::path created_;  // the outermost folder this start created; empty: none
};

// Where the service keeps its state. Each URL defaults to a place inside the data
// directory (the embedded profile); the cluster profile points them at real servers.
struct StorageOptions {
  std::string data_dir = "./argus-data";
  std::string catalog_url;  // default sqlite://DATA/catalog.db
  std::string queue_url;    // default sqlite://DATA/queue.db
  std::string blob_url;     // default file://DATA/blobs
  std::string events_url;   // default unix://DATA/events.sock
  int visibility_timeout_s = 30;
  // Of the SQLite catalog and queue and of uploads to a local blob folder.
  DurabilityLevel durability = DurabilityLevel::kProcessCrash;

  // Whether `durability` governs any of the stores: a SQLite catalog or queue, or a local
  // blob folder. Call after Resolve.
  bool DurabilityApplies() const;

  // Fills in the defaults and creates the data directory. Called once the start's other
  // checks have passed: the directory goes again if the start still fails.
  Result<DataDirectory> Resolve();
  // --catalog, else sqlite://DATA_DIR/catalog.db: what Resolve fills in, without creating
  // anything.
  std::string CatalogUrl() const;

  // kInvalidArgument when the SQLite catalog is missing from a data directory that holds a
  // service's uploads, or its queue when `queue_shows_a_service` (deleted, or lost in a
  // restore): a new empty catalog would drop every account and photo record. Not the queue
  // for a worker or scaler: a scaler started before its web tier makes the queue.
  Result<void> CheckCatalogNotLost(bool queue_shows_a_service) const;
  // For the worker and the scaler, which use the stores their web tier made: kInvalidArgument
  // when a store would lie in a data directory that does not exist. A mistyped --data-dir
  // would otherwise get a new empty queue of its own, and wait on it for good. `command`
  // names the process in the message.
  Result<void> CheckDataDirExists(std::string_view command) const;
};

struct Stores {
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<queue::Queue> queue;
  std::unique_ptr<blob::BlobStore> blobs;
  std::unique_ptr<events::EventBus> events;
};
Result<Stores> OpenStores(const StorageOptions& options);

// Calls `open` again each second while it fails with kUnavailable (a store down: restarting,
// failing over, or not yet up in a cold start of a whole deployment), logging the wait as
// `component` every 30 s, and returns its first other result. A process that exited instead
// was restarted by its supervisor with growing delays, and came up minutes after the store
// did. Gives up when `stop` is requested, returning the last failure.
Result<void> RetryWhileUnavailable(std::string_view component, const std::stop_token& stop,
                                   const std::function<Result<void>()>& open);
// RetryWhileUnavailable until SIGTERM, SIGINT or SIGHUP (blocked, BlockTerminationSignals)
// comes: nullopt then, and the caller exits 0.
std::optional<Result<void>> RetryWhileUnavailableUnlessSignalled(
    std::string_view component, const std::function<Result<void>()>& open);

// How workers classify; `serve` and `scaler` pass these on to the workers they start.
struct WorkerSettings {
  std::string model;
  worker::WorkerOptions worker;
  int engine_threads = 0;
  // Intra-op threads busy-wait between operators instead of sleeping: about a millisecond
  // less per batch, at the price of cores that nothing else can use meanwhile.
  bool engine_spin = false;
};

// The assets folder the workers of `serve` and `scaler` will use, once it is checked to hold
// the model they are set to run: a setup problem is reported before any worker starts.
Result<std::filesystem::path> CheckWorkerAssets(const std::string& assets_dir_option,
                                                const WorkerSettings& settings);

void AddStorageOptions(CLI::App& command, StorageOptions& options);
// --data-dir and --catalog only, of AddStorageOptions: all `argus accounts` opens.
void AddCatalogOptions(CLI::App& command, StorageOptions& options);
// --max-bytes and --max-pixels: what the web tier checks uploads against and workers decode.
void AddImageLimitOptions(CLI::App& command, image::Limits& limits);
// How workers classify, for the commands that run or start workers; includes the limits.
void AddWorkerSettings(CLI::App& command, WorkerSettings& settings);
// The scaler's options, for the commands that run one (`serve`, `scaler`).
void AddScalingOptions(CLI::App& command, scaler::ScalingOptions& scaling,
                       int& scale_in_cooldown_s);
// Run once `command` is parsed, with the flags, environment and file all applied: workers
// share the cores among the most that may run, so the maximum is settled before any starts.
// A minimum above the default maximum (the cores) raises it; above a maximum that was set it
// is refused (CLI::ValidationError, reported as a usage error).
void SettleWorkerBounds(const CLI::App& command, scaler::ScalingOptions& scaling);

// The command line that starts one `argus worker` with these settings. Thread counts left
// at 0 become an equal share of this machine's cores among `max_workers` workers: more
// threads than cores only add switching and waiting for descheduled threads. The store URLs
// go in the environment (WorkerEnvironment), not here: they may hold credentials, and any
// user of the machine can read a process's command line.
std::vector<std::string> WorkerCommand(const StorageOptions& storage,
                                       const WorkerSettings& settings,
                                       const std::string& assets_dir, int max_workers);

// The environment of a worker: `inherited` ("NAME=VALUE" entries, null-terminated, as
// `environ`) with glibc's malloc asked to back large allocations with transparent huge pages
// (GLIBC_TUNABLES glibc.malloc.hugetlb=1, added to any tunables already set). A starting
// worker's first batch touches megabytes of fresh engine memory: in 4 KB pages a cold start
// took 27,000 page faults, with huge pages under half as many and up to a third less CPU.
// A hugetlb already set is kept. The store URLs of `storage` are set as ARGUS_CATALOG_URL,
// ARGUS_QUEUE_URL, ARGUS_BLOB_URL and ARGUS_EVENTS_URL, replacing inherited ones.
std::vector<std::string> WorkerEnvironment(const char* const* inherited,
                                           const StorageOptions& storage);

}  // namespace argus::cli
