#pragma once

#include <drogon/HttpRequest.h>
#include <drogon/HttpResponse.h>
#include <json/value.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "api/event_hub.h"
#include "api/handler_pool.h"
#include "api/metrics.h"
#include "api/thumbnail_renders.h"
#include "api/trusted_proxies.h"
#include "auth/accounts.h"
#include "blob/blob_store.h"
#include "blob/write_probe.h"
#include "catalog/catalog.h"
#include "common/durability.h"
#include "events/event_bus.h"
#include "image/limits.h"
#include "queue/queue.h"
#include "queue/wake_channel.h"
#include "worker/job.h"
#include "worker/job_marks.h"

namespace argus::api {

struct ApiOptions {
  image::Limits limits;  // per uploaded file
  std::size_t max_files_per_request = 100;
  // Above this many waiting jobs, uploads get 503 with Retry-After instead of growing the
  // backlog without bound.
  std::uint64_t max_queue_depth = 10'000;
  // How long POST / waits for its result before answering 504.
  std::chrono::milliseconds sync_timeout{60'000};
  std::chrono::milliseconds max_long_poll{60'000};  // cap of ?wait=
  bool allow_anonymous_classify = true;
  std::filesystem::path assets_dir;  // breed photos (assets/breeds); empty: none
  std::filesystem::path web_dir;     // the built web app (web/dist); empty: none
  int thumbnail_size = 256;          // longer side of gallery thumbnails, in pixels
  // Files and thumbnails are answered with a redirect to a presigned URL of the blob store
  // (S3), so their bytes do not pass through the web tier. Clients must reach the store.
  bool presigned_downloads = false;
  // kPowerLoss: an upload's bytes are flushed to disk before it is acknowledged.
  DurabilityLevel upload_durability = DurabilityLevel::kProcessCrash;
  // Whether upload_durability governs any store of this process; the operations status
  // shows it only then (PostgreSQL, NATS JetStream and S3 keep their servers' settings).
  bool durability_applies = true;
  // Where new uploads are announced to the worker of the machine (worker/decode_ahead.h);
  // empty: not announced.
  std::filesystem::path decode_ahead_folder;
  // Load balancers whose X-Forwarded-For names the client (log-in limit, access log).
  TrustedProxies trusted_proxies;
};

struct ApiContext;

// Room under --max-queue-depth held by an upload for the jobs of its new images, from the
// check until the handler ends. Uploads under way at once all read the same depth, which is
// read from the queue at most every 100 ms: each counts the others' reservations, and the jobs
// they queued since the reading (100 concurrent uploads took a bound of 5 to 44 jobs).
class BacklogReservation {
 public:
  BacklogReservation() = default;
  BacklogReservation(ApiContext& context, std::uint64_t images)
      : context_(&context), images_(images) {}
  BacklogReservation(BacklogReservation&& other) noexcept;
  BacklogReservation& operator=(BacklogReservation&& other) noexcept;
  ~BacklogReservation();

  // One of the reserved jobs is in the queue.
  void CountQueued() { ++queued_; }

 private:
  ApiContext* context_ = nullptr;
  std::uint64_t images_ = 0;
  std::uint64_t queued_ = 0;
};

// Where a long removal gives way, keeping what it removed: the process stopping, or its
// caller's time running out. The web tier's periodic sweeps take up what is left.
struct RemovalBounds {
  std::stop_token stop;
  std::chrono::steady_clock::time_point until = std::chrono::steady_clock::time_point::max();

  bool Reached() const {
    return stop.stop_requested() || std::chrono::steady_clock::now() >= until;
  }
};

// Everything the HTTP handlers share. Owned by the process that runs the web tier.
struct ApiContext {
  ApiContext(catalog::Catalog& catalog, queue::Queue& queue, worker::JobMarks& job_marks,
             blob::BlobStore& blobs, events::EventBus& events, EventHub& hub, Metrics& metrics,
             HandlerPool& handlers, ApiOptions options)
      : accounts(catalog),
        catalog(catalog),
        queue(queue),
        job_marks(job_marks),
        blobs(blobs),
        blob_writes(blobs, std::chrono::seconds(5), options.limits.max_bytes),
        events(events),
        hub(hub),
        metrics(metrics),
        handlers(handlers),
        options(std::move(options)),
        decode_ahead(
            this->options.decode_ahead_folder.empty()
                ? nullptr
                : std::make_unique<queue::WakeChannel>(this->options.decode_ahead_folder)) {}

  auth::Accounts accounts;
  catalog::Catalog& catalog;
  queue::Queue& queue;
  worker::JobMarks& job_marks;
  blob::BlobStore& blobs;
  // Whether uploads can be stored, for /readyz.
  blob::WriteProbe blob_writes;
  // Where the web tier tells every replica's clients of uploads and deletions.
  events::EventBus& events;
  EventHub& hub;
  Metrics& metrics;
  // Where handlers that use the stores run (api/off_the_loop.h).
  HandlerPool& handlers;
  ApiOptions options;
  ThumbnailRenders thumbnails;
  std::unique_ptr<queue::WakeChannel> decode_ahead;  // null when not announcing
  // The scaler's view (workers, decisions) when it runs in this process, for /api/v1/ops.
  std::function<Json::Value()> scaler_status;
  // Why uploads cannot be kept, when a store's file is gone under the running process
  // (cli::StoreFilesWatch); nullopt otherwise. Unset: nothing to watch.
  std::function<std::optional<std::string>()> stores_lost;
  // Set on SIGTERM: new uploads are refused, waiting clients are still answered.
  std::atomic<bool> draining = false;

  // The queue's stats, refreshed at most every 100 ms so that every upload does not count
  // the queue.
  Result<queue::QueueStats> QueueStats();

  // The 503 that uploads and readiness answer while a store's file is gone; null otherwise.
  drogon::HttpResponsePtr StoreFileGone() const;

  // Reserves room for the jobs of `images` new images when the backlog leaves it; `waiting`
  // is the backlog counted, reservations included.
  struct BacklogCheck {
    std::optional<BacklogReservation> reservation;  // none: no room
    std::uint64_t waiting = 0;
  };
  Result<BacklogCheck> ReserveBacklog(std::uint64_t images);

  // Held while an upload stores an image's bytes and records it, and while a deletion removes
  // an image's last record and its objects: an upload that found the bytes stored and then
  // recorded the image right after a deletion had removed its last record kept a record whose
  // bytes the deletion went on to delete. Replicas of the web tier do not share it
  // (docs/CLUSTER.md, known limits).
  std::unique_lock<std::mutex> LockImage(std::string_view id);

  // Tells the clients of every web replica of images their accounts gained ("uploaded") or
  // lost ("deleted"), through the event bus as workers tell of status changes; a failure is
  // logged, since the events only spare clients a re-fetch.
  void Announce(std::span<const worker::ImageEvent> images);

  // Takes `id` out of the owner's gallery, and deletes its stored objects when no owner is
  // left; tells the owner's clients. kNotFound unless the owner has it.
  Result<void> RemoveImage(const std::string& owner, const std::string& id);
  // Every image of the owner's gallery, as RemoveImage does, until `bounds` are reached;
  // returns how many.
  Result<std::size_t> RemoveImagesOf(const std::string& owner, const RemovalBounds& bounds = {});
  // The photos of deleted accounts that their deletion left (failed part-way, or ran out of
  // its time), until `bounds` are reached; returns how many.
  Result<std::size_t> RemovePhotosOfDeletedUsers(const RemovalBounds& bounds = {});
  // The finished photos sent without an account before `before_ms`, as RemoveImage does,
  // unless sent again since, until `bounds` are reached; returns how many.
  Result<std::size_t> RemoveAnonymousUploadsBefore(std::int64_t before_ms,
                                                   const RemovalBounds& bounds = {});
  // The objects of images the catalog does not have (bytes stored by an upload that a crash
  // or a catalog outage kept from being recorded; an output or thumbnail written as its image
  // was removed) and that were written before `written_before`, until `bounds` are reached;
  // returns how many. Bytes an upload through another replica records meanwhile are put back.
  Result<std::size_t> RemoveObjectsOfNoImage(std::chrono::system_clock::time_point written_before,
                                             const RemovalBounds& bounds = {});

 private:
  friend class BacklogReservation;
  // RemoveImage of an upload older than `before_ms` (kNotFound if newer).
  Result<void> RemoveUploadBefore(const std::string& owner, const std::string& id,
                                  std::int64_t before_ms);
  Result<void> RefreshStatsLocked();
  void EndReservation(std::uint64_t images, std::uint64_t queued);

  std::mutex stats_mutex_;
  std::chrono::steady_clock::time_point stats_time_{};
  queue::QueueStats stats_{};
  std::uint64_t reserved_ = 0;              // by uploads under way
  std::uint64_t queued_since_reading_ = 0;  // by uploads that ended since stats_ was read
  std::array<std::mutex, 64> image_locks_;  // by a hash of the id
};

// The account a request acts for, by bearer token or session cookie; nullopt when it
// presents neither. Invalid credentials are a ready 401 response, and a state-changing
// request authenticated by the cookie without the matching X-CSRF-Token a 403.
std::expected<std::optional<auth::Principal>, drogon::HttpResponsePtr> Identify(
    ApiContext& context, const drogon::HttpRequestPtr& request);
// As Identify, and no credentials is a 401 too.
std::expected<auth::Principal, drogon::HttpResponsePtr> RequireUser(
    ApiContext& context, const drogon::HttpRequestPtr& request);

// The address the request came from, through the trusted proxies.
std::string ClientAddress(const TrustedProxies& proxies, const drogon::HttpRequestPtr& request);

}  // namespace argus::api
