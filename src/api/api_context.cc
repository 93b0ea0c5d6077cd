#include "api/api_context.h"

#include <drogon/HttpRequest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <format>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_errors.h"
#include "common/ascii.h"
#include "common/log.h"
#include "worker/worker.h"

namespace argus::api {
namespace {

// The token of an "Authorization: Bearer TOKEN" header, else "". The scheme's name is
// case-insensitive (RFC 9110, section 11.1).
std::string BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  const std::size_t space = authorization.find(' ');
  if (space != kScheme.size() || !StartsWithIgnoringCase(authorization, kScheme)) return "";
  const std::size_t token = authorization.find_first_not_of(' ', space);
  return token == std::string_view::npos ? "" : std::string(authorization.substr(token));
}

// A load balancer left out of --trusted-proxies makes all its clients share its address and
// log-in limit. Said once for each of the first few peers: any client may send the header.
void WarnOfIgnoredForwarding(const std::string& peer) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> warned;
  constexpr std::size_t kPeersWarnedOf = 8;
  {
    std::lock_guard lock(mutex);
    if (warned.size() >= kPeersWarnedOf || !warned.insert(peer).second) return;
  }
  LogLine("warning", "http",
          std::format("requests from {0} carry X-Forwarded-For, which is ignored: if {0} is a load "
                      "balancer, name it in --trusted-proxies, or all its clients share one "
                      "address's limit of failed log-ins",
                      peer));
}

// The image an object of Argus's belongs to ("inputs/ID", "outputs/ID.json",
// "thumbnails/ID.jpg"), or "" for any other key.
std::string ImageOfObject(std::string_view key) {
  const std::size_t slash = key.find('/');
  if (slash == std::string_view::npos) return "";
  constexpr std::size_t kIdLength = 64;  // the hex sha256 of the bytes
  const std::string id(key.substr(slash + 1, kIdLength));
  if (id.size() != kIdLength || !std::ranges::all_of(id, [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      })) {
    return "";
  }
  const bool argus_key = key == worker::InputKey(id) || key == worker::OutputKey(id) ||
                         key == worker::ThumbnailKey(id);
  return argus_key ? id : "";
}

}  // namespace

void ApiContext::Announce(std::span<const worker::ImageEvent> images) {
  for (const std::string& message : worker::EncodeImageEvents(images)) {
    if (auto published = events.Publish(message); !published) {
      LogLine("warning", "web", "cannot publish upload events: " + published.error().message);
    }
  }
}

Result<void> ApiContext::RemoveImage(const std::string& owner, const std::string& id) {
  return RemoveUploadBefore(owner, id, std::numeric_limits<std::int64_t>::max());
}

Result<void> ApiContext::RemoveUploadBefore(const std::string& owner, const std::string& id,
                                            std::int64_t before_ms) {
  const std::unique_lock held = LockImage(id);
  const auto delete_derived = [this, &id]() -> Result<void> {
    for (const std::string& key : {worker::OutputKey(id), worker::ThumbnailKey(id)}) {
      if (auto deleted = blobs.Delete(key); !deleted) return deleted;
    }
    return {};
  };
  // The output object and thumbnail go with the bytes, before the removal commits, so that a
  // crash right after it leaves no object of the photo (the labels of a deleted account's
  // photo stayed in the output bucket for good).
  auto last_owner = catalog.RemoveUploadedBefore(
      owner, id, before_ms, [this, &id, &delete_derived]() -> Result<void> {
        if (auto deleted = blobs.Delete(worker::InputKey(id)); !deleted) return deleted;
        return delete_derived();
      });
  if (!last_owner) return std::unexpected(last_owner.error());
  // A photo sent without an account has no one to tell; an event naming no owner would be
  // taken as a worker's, for every account holding the same photo.
  if (!owner.empty()) {
    Announce(
        std::vector<worker::ImageEvent>{{.image_id = id, .status = "deleted", .owner = owner}});
  }
  if (!*last_owner) return {};
  // Again after it, for one that a worker or a thumbnail render wrote meanwhile, having found
  // the image still there. Not the bytes: an upload of the same content that waited for the
  // commit has stored them anew for its own image.
  return delete_derived();
}

Result<std::size_t> ApiContext::RemoveImagesOf(const std::string& owner,
                                               const RemovalBounds& bounds) {
  constexpr int kPage = 200;
  std::size_t removed = 0;
  while (true) {
    // The first page each time: the removals have emptied the one before.
    auto page = catalog.List({.owner = owner, .limit = kPage});
    if (!page) return std::unexpected(page.error());
    if (page->images.empty()) return removed;
    for (const catalog::ImageRecord& image : page->images) {
      if (bounds.Reached()) return removed;
      auto gone = RemoveImage(owner, image.id);
      // Removed meanwhile by the owner's own request: as good.
      if (!gone && gone.error().code != ErrorCode::kNotFound) return std::unexpected(gone.error());
      removed += gone.has_value();
    }
  }
}

Result<std::size_t> ApiContext::RemoveAnonymousUploadsBefore(std::int64_t before_ms,
                                                             const RemovalBounds& bounds) {
  constexpr int kPage = 200;
  std::size_t removed = 0;
  while (true) {
    auto ids = catalog.AnonymousUploadsBefore(before_ms, kPage);
    if (!ids) return std::unexpected(ids.error());
    for (const std::string& id : *ids) {
      if (bounds.Reached()) return removed;
      auto gone = RemoveUploadBefore("", id, before_ms);
      // Removed meanwhile by another replica's sweep, or sent again since: as good.
      if (!gone && gone.error().code != ErrorCode::kNotFound) return std::unexpected(gone.error());
      removed += gone.has_value();
    }
    if (ids->size() < kPage) return removed;
  }
}

Result<std::size_t> ApiContext::RemovePhotosOfDeletedUsers(const RemovalBounds& bounds) {
  constexpr int kUsersPerRound = 100;
  auto users = catalog.DeletedUsersWithUploads(kUsersPerRound);
  if (!users) return std::unexpected(users.error());
  std::size_t removed = 0;
  for (const std::string& user : *users) {
    auto photos = RemoveImagesOf(user, bounds);
    if (!photos) return std::unexpected(photos.error());
    removed += *photos;
  }
  return removed;
}

Result<std::size_t> ApiContext::RemoveObjectsOfNoImage(
    std::chrono::system_clock::time_point written_before, const RemovalBounds& bounds) {
  struct Candidate {
    std::string key;
    std::string image;
  };
  // Looked up in the catalog a batch at a time.
  constexpr std::size_t kBatch = 500;
  std::vector<Candidate> batch;
  std::size_t removed = 0;
  // Under the image's lock, as an upload stores bytes and records them; another replica's
  // upload is not held by it, so the bytes are put back if it recorded the image meanwhile.
  const auto remove = [this](const Candidate& object) -> Result<bool> {
    const std::unique_lock held = LockImage(object.image);
    auto image = catalog.GetImage(object.image);
    if (image) return false;
    if (image.error().code != ErrorCode::kNotFound) return std::unexpected(image.error());
    const bool input = object.key == worker::InputKey(object.image);
    std::vector<std::byte> bytes;
    if (input) {
      auto read = blobs.Get(object.key);
      if (!read) {
        if (read.error().code == ErrorCode::kNotFound) return false;
        return std::unexpected(read.error());
      }
      bytes = std::move(*read);
    }
    if (auto deleted = blobs.Delete(object.key); !deleted) return std::unexpected(deleted.error());
    if (!input) return true;
    auto recorded = catalog.GetImage(object.image);
    if (!recorded && recorded.error().code == ErrorCode::kNotFound) return true;
    const std::string type = recorded ? recorded->content_type : "application/octet-stream";
    if (auto restored = blobs.Put(object.key, bytes, type, blob::Durability::kPowerLoss);
        !restored) {
      return std::unexpected(restored.error());
    }
    if (!recorded) return std::unexpected(recorded.error());
    return false;
  };
  const auto remove_batch = [&]() -> Result<void> {
    std::vector<std::string> images;
    images.reserve(batch.size());
    for (const Candidate& object : batch) images.push_back(object.image);
    auto known = catalog.KnownImages(images);
    if (!known) return std::unexpected(known.error());
    for (const Candidate& object : batch) {
      if (known->contains(object.image)) continue;
      if (bounds.Reached()) break;
      auto gone = remove(object);
      if (!gone) return std::unexpected(gone.error());
      removed += *gone ? 1 : 0;
    }
    batch.clear();
    return {};
  };
  for (const std::string_view folder : {"inputs/", "outputs/", "thumbnails/"}) {
    Result<void> failed;
    auto listed = blobs.List(folder, [&](const blob::ListedObject& object) {
      if (bounds.Reached()) return false;
      std::string image = ImageOfObject(object.key);
      if (object.written >= written_before || image.empty()) return true;
      batch.push_back({.key = object.key, .image = std::move(image)});
      if (batch.size() < kBatch) return true;
      failed = remove_batch();
      return failed.has_value();
    });
    if (!failed) return std::unexpected(failed.error());
    if (!listed) return std::unexpected(listed.error());
    if (auto rest = remove_batch(); !rest) return std::unexpected(rest.error());
    if (bounds.Reached()) break;
  }
  return removed;
}

BacklogReservation::BacklogReservation(BacklogReservation&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)),
      images_(other.images_),
      queued_(other.queued_) {}

BacklogReservation& BacklogReservation::operator=(BacklogReservation&& other) noexcept {
  std::swap(context_, other.context_);
  std::swap(images_, other.images_);
  std::swap(queued_, other.queued_);
  return *this;
}

BacklogReservation::~BacklogReservation() {
  if (context_ != nullptr) context_->EndReservation(images_, queued_);
}

Result<void> ApiContext::RefreshStatsLocked() {
  const auto now = std::chrono::steady_clock::now();
  if (now - stats_time_ <= std::chrono::milliseconds(100)) return {};
  auto stats = queue.Stats();
  if (!stats) return std::unexpected(stats.error());
  stats_ = *stats;
  stats_time_ = now;
  // Jobs queued before the reading are in it; one queued while it was taken may be counted
  // twice until the next, which errs on the side of the bound.
  queued_since_reading_ = 0;
  return {};
}

drogon::HttpResponsePtr ApiContext::StoreFileGone() const {
  if (!stores_lost) return nullptr;
  const std::optional<std::string> lost = stores_lost();
  if (!lost) return nullptr;
  return ErrorResponse(drogon::k503ServiceUnavailable, "store_file_gone", *lost);
}

Result<queue::QueueStats> ApiContext::QueueStats() {
  std::lock_guard lock(stats_mutex_);
  if (auto fresh = RefreshStatsLocked(); !fresh) return std::unexpected(fresh.error());
  return stats_;
}

Result<ApiContext::BacklogCheck> ApiContext::ReserveBacklog(std::uint64_t images) {
  std::lock_guard lock(stats_mutex_);
  if (auto fresh = RefreshStatsLocked(); !fresh) return std::unexpected(fresh.error());
  const std::uint64_t waiting = stats_.ready + queued_since_reading_ + reserved_;
  if (waiting + images > options.max_queue_depth) return BacklogCheck{.waiting = waiting};
  reserved_ += images;
  return BacklogCheck{.reservation = BacklogReservation(*this, images), .waiting = waiting};
}

void ApiContext::EndReservation(std::uint64_t images, std::uint64_t queued) {
  std::lock_guard lock(stats_mutex_);
  reserved_ -= images;
  queued_since_reading_ += queued;
}

std::unique_lock<std::mutex> ApiContext::LockImage(std::string_view id) {
  return std::unique_lock(image_locks_[std::hash<std::string_view>{}(id) % image_locks_.size()]);
}

std::expected<std::optional<auth::Principal>, drogon::HttpResponsePtr> Identify(
    ApiContext& context, const drogon::HttpRequestPtr& request) {
  const std::string& authorization = request->getHeader("authorization");
  const std::string bearer = BearerToken(authorization);
  if (!authorization.empty() && bearer.empty()) {
    return std::unexpected(ErrorResponse(drogon::k401Unauthorized, "unauthenticated",
                                         "the Authorization header must be \"Bearer TOKEN\""));
  }
  auto principal = context.accounts.Authenticate(request->getCookie("argus_session"), bearer);
  if (!principal) {
    if (principal.error().code != ErrorCode::kNotFound) {
      return std::unexpected(ErrorResponse(principal.error()));
    }
    return std::unexpected(ErrorResponse(
        drogon::k401Unauthorized, "unauthenticated",
        bearer.empty() ? "the session has ended; log in again" : "the API token is not valid"));
  }
  const auto method = request->method();
  const bool changes_state =
      method != drogon::Get && method != drogon::Head && method != drogon::Options;
  std::optional<auth::Principal>& identified = *principal;
  if (identified && !identified->csrf_token.empty() && changes_state &&
      request->getHeader("x-csrf-token") != identified->csrf_token) {
    return std::unexpected(
        ErrorResponse(drogon::k403Forbidden, "csrf", "missing or wrong X-CSRF-Token header"));
  }
  return std::move(identified);
}

std::expected<auth::Principal, drogon::HttpResponsePtr> RequireUser(
    ApiContext& context, const drogon::HttpRequestPtr& request) {
  auto principal = Identify(context, request);
  if (!principal) return std::unexpected(principal.error());
  std::optional<auth::Principal>& identified = *principal;
  if (!identified) {
    return std::unexpected(
        ErrorResponse(drogon::k401Unauthorized, "unauthenticated", "log in or send an API token"));
  }
  return std::move(*identified);
}

std::string ClientAddress(const TrustedProxies& proxies, const drogon::HttpRequestPtr& request) {
  const std::string peer = request->peerAddr().toIp();
  const std::string& forwarded_for = request->getHeader("x-forwarded-for");
  if (!forwarded_for.empty() && !proxies.Contains(peer)) WarnOfIgnoredForwarding(peer);
  return proxies.ClientOf(peer, forwarded_for);
}

}  // namespace argus::api
