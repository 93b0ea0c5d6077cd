// Reading and deleting images: GET/DELETE /api/v1/images[/{id}[/file]].
#include <drogon/drogon.h>

#include <charconv>
#include <chrono>
#include <filesystem>
#include <format>

#include "api/http_errors.h"
#include "api/image_json.h"
#include "api/off_the_loop.h"
#include "api/request_id.h"
#include "api/routes.h"
#include "common/log.h"
#include "common/peer_key.h"
#include "image/thumbnail.h"
#include "worker/worker.h"

namespace argus::api {
namespace {

// Parses a non-negative integer query parameter; nullopt when absent.
Result<std::optional<int>> IntParameter(const HttpRequestPtr& request, const std::string& name,
                                        int min, int max) {
  const std::string& text = request->getParameter(name);
  if (text.empty()) return std::nullopt;
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Fail(ErrorCode::kInvalidArgument,
                std::format("{} must be an integer from {} to {}", name, min, max));
  }
  return value;
}

void GetImage(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
              Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const std::string& owner = principal->user.id;
  const int max_wait = static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(context->options.max_long_poll).count());
  auto wait = IntParameter(request, "wait", 0, max_wait);
  if (!wait) return callback(ErrorResponse(wait.error()));
  const auto deadline = EventHub::Clock::now() + std::chrono::seconds(wait->value_or(0));
  AwaitImage(context, owner, id, deadline,
             [callback = std::move(callback), waiting = context->hub.ClientStartsWaiting(
                                                  PeerKey(request->peerAddr().getSockAddr()))](
                 Result<catalog::ImageRecord> record) {
               callback(record ? HttpResponse::newHttpJsonResponse(ImageJson(*record))
                               : ErrorResponse(record.error()));
               waiting->Answered();
             });
}

void ListImages(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const std::string& owner = principal->user.id;
  auto limit = IntParameter(request, "limit", 1, 200);
  if (!limit) return callback(ErrorResponse(limit.error()));
  auto page = context->catalog.List({.owner = owner,
                                     .label = request->getParameter("label"),
                                     .cursor = request->getParameter("cursor"),
                                     .limit = limit->value_or(50)});
  if (!page) return callback(ErrorResponse(page.error()));
  Json::Value body(Json::objectValue);
  body["images"] = Json::Value(Json::arrayValue);
  for (const catalog::ImageRecord& record : page->images) body["images"].append(ImageJson(record));
  body["next_cursor"] = page->next_cursor;
  if (page->label_match != catalog::LabelMatch::kNone) {
    body["label_match"] = page->label_match == catalog::LabelMatch::kWords ? "words" : "term";
  }
  callback(HttpResponse::newHttpJsonResponse(body));
}

// How long a presigned download URL stays valid; browsers may cache the redirect for
// somewhat less.
constexpr std::chrono::seconds kPresignedUrlLifetime{15 * 60};
constexpr std::chrono::seconds kRedirectCacheLifetime{10 * 60};

// A redirect to the stored object when presigned downloads are on; nullptr otherwise, or
// when the store cannot presign (the bytes are then served directly).
HttpResponsePtr RedirectToStore(ApiContext& context, const std::string& key) {
  if (!context.options.presigned_downloads) return nullptr;
  auto url = context.blobs.PresignedGetUrl(key, kPresignedUrlLifetime);
  if (!url) {
    LogLine("warning", "web", "cannot presign " + key + ": " + url.error().message);
    return nullptr;
  }
  auto response = HttpResponse::newRedirectionResponse(*url, drogon::k302Found);
  response->addHeader("Cache-Control",
                      std::format("private, max-age={}", kRedirectCacheLifetime.count()));
  return response;
}

// Photos and thumbnails are private: a browser keeps them but asks each time it shows one
// (no-cache), so that none is shown from its cache after its owner logged out or deleted it, as
// happened when they were cached for a year. The ids are content hashes, so their ETags answer
// "not modified" without the bytes being read.
constexpr const char* kPrivateCaching = "private, no-cache";

std::string ETagOf(std::string_view id) { return std::format("\"{}\"", id); }

// 304 when the browser holds the version named by `etag`; null otherwise.
HttpResponsePtr NotModified(const HttpRequestPtr& request, const std::string& etag) {
  const std::string& held = request->getHeader("if-none-match");
  if (held != "*" && held.find(etag) == std::string::npos) return nullptr;
  auto response = HttpResponse::newHttpResponse();
  response->setStatusCode(drogon::k304NotModified);
  response->addHeader("ETag", etag);
  response->addHeader("Cache-Control", kPrivateCaching);
  return response;
}

HttpResponsePtr BytesResponse(const std::vector<std::byte>& bytes, const std::string& type,
                              const std::string& etag) {
  auto response = HttpResponse::newHttpResponse();
  response->setContentTypeString(type);
  response->setBody(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  response->addHeader("ETag", etag);
  response->addHeader("Cache-Control", kPrivateCaching);
  return response;
}

void GetFile(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
             Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const std::string& owner = principal->user.id;
  auto record = context->catalog.Get(owner, id);
  if (!record) return callback(ErrorResponse(record.error()));
  if (auto redirect = RedirectToStore(*context, worker::InputKey(id))) return callback(redirect);
  const std::string etag = ETagOf(id);
  if (auto not_modified = NotModified(request, etag)) return callback(not_modified);
  // A local file is sent from the page cache as the client reads it (sendfile), so a photo
  // of 50 MB is not held in memory for each client that reads it slowly or not at all.
  if (auto file = context->blobs.LocalFileOf(worker::InputKey(id))) {
    if (std::error_code error; !std::filesystem::is_regular_file(*file, error)) {
      return callback(ErrorResponse(drogon::k404NotFound, "not_found", "no such image"));
    }
    auto response = HttpResponse::newFileResponse(*file);
    response->setContentTypeString(record->content_type);
    response->addHeader("ETag", etag);
    response->addHeader("Cache-Control", kPrivateCaching);
    return callback(response);
  }
  auto bytes = context->blobs.Get(worker::InputKey(id));
  if (!bytes) return callback(ErrorResponse(bytes.error()));
  callback(BytesResponse(*bytes, record->content_type, etag));
}

// Thumbnails are made on first request and kept: most images are classified through the
// API and never shown in the gallery, so making one for every image would cost each worker
// a second decode for nothing. One kept before is answered at once, else the thumbnail is
// made in its owner's turn (ThumbnailRenders) and `callback` called on the renders' thread.
void AnswerThumbnail(ApiContext& context, const std::string& owner, const std::string& id,
                     const std::string& request_id, const std::string& etag, Callback&& callback) {
  static constexpr std::string_view kBusy =
      "the thumbnails of many photos wait to be made (64 of an account's, or 256 in all); retry "
      "shortly";
  const auto answer = [callback = std::move(callback),
                       etag](const Result<std::vector<std::byte>>& bytes) {
    if (bytes) return callback(BytesResponse(*bytes, "image/jpeg", etag));
    const std::string& message = bytes.error().message;
    if (message == ThumbnailRenders::kStoppingMessage || message == kBusy) {
      return callback(ErrorResponse(drogon::k503ServiceUnavailable,
                                    message == kBusy ? "busy" : "shutting_down", message));
    }
    callback(ErrorResponse(bytes.error()));
  };
  auto stored = context.blobs.Get(worker::ThumbnailKey(id));
  if (stored || stored.error().code != ErrorCode::kNotFound) return answer(stored);
  // The context owns the renders, whose thread ends before the rest of the context.
  auto render = [&context, id]() -> Result<std::vector<std::byte>> {
    auto input = context.blobs.Get(worker::InputKey(id));
    if (!input) return std::unexpected(input.error());
    auto thumbnail =
        image::MakeThumbnail(*input, context.options.thumbnail_size, context.options.limits);
    if (!thumbnail) return std::unexpected(thumbnail.error());
    if (auto put = context.blobs.Put(worker::ThumbnailKey(id), *thumbnail, "image/jpeg",
                                     blob::Durability::kRecreatable);
        !put) {
      LogLine("warning", "web", "cannot keep the thumbnail of " + id + ": " + put.error().message);
    } else if (auto image = context.catalog.GetImage(id);
               !image && image.error().code == ErrorCode::kNotFound) {
      // Deleted while the thumbnail was being made: do not leave it behind.
      (void)context.blobs.Delete(worker::ThumbnailKey(id));
    }
    return thumbnail;
  };
  switch (context.thumbnails.Get(id, owner, request_id, std::move(render), answer)) {
    case ThumbnailRenders::Taken::kYes:
      return;
    case ThumbnailRenders::Taken::kBusy:
      return answer(Fail(ErrorCode::kUnavailable, std::string(kBusy)));
    case ThumbnailRenders::Taken::kStopping:
      return answer(Fail(ErrorCode::kUnavailable, std::string(ThumbnailRenders::kStoppingMessage)));
  }
}

void GetThumbnail(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                  Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  if (auto record = context->catalog.Get(principal->user.id, id); !record) {
    return callback(ErrorResponse(record.error()));
  }
  if (context->options.presigned_downloads) {
    if (auto kept = context->blobs.Exists(worker::ThumbnailKey(id)); kept && *kept) {
      if (auto redirect = RedirectToStore(*context, worker::ThumbnailKey(id))) {
        return callback(redirect);
      }
    }
  }
  const std::string etag = ETagOf(id + "-thumbnail");
  if (auto not_modified = NotModified(request, etag)) return callback(not_modified);
  AnswerThumbnail(*context, principal->user.id, id, RequestIdOf(request), etag,
                  std::move(callback));
}

void DeleteImage(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                 Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  if (auto removed = context->RemoveImage(principal->user.id, id); !removed) {
    return callback(ErrorResponse(removed.error()));
  }
  callback(NoContentResponse());
}

}  // namespace

void AwaitImage(const std::shared_ptr<ApiContext>& context, const std::string& owner,
                const std::string& id, EventHub::Clock::time_point deadline,
                std::function<void(Result<catalog::ImageRecord>)> callback) {
  // Register before reading so an event between the read and the registration still wakes
  // us; `answered` makes the later wake-up of an already answered wait a no-op.
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto shared_callback =
      std::make_shared<std::function<void(Result<catalog::ImageRecord>)>>(std::move(callback));
  const bool can_wait = EventHub::Clock::now() < deadline && !context->hub.closed();
  if (can_wait) {
    context->hub.WaitForImage(id, deadline, [=](const StatusEvent* /*event*/) {
      if (answered->exchange(true)) return;
      // The hub wakes waiters on its own thread, or the event bus's: a silent catalog must
      // hold neither.
      context->handlers.Run(
          [=] { AwaitImage(context, owner, id, deadline, std::move(*shared_callback)); });
    });
  }
  auto record = context->catalog.Get(owner, id);
  if (!record || catalog::IsFinal(record->status) || !can_wait) {
    if (answered->exchange(true)) return;
    (*shared_callback)(std::move(record));
  }
}

void RegisterImageRoutes(const std::shared_ptr<ApiContext>& context) {
  auto& app = drogon::app();
  app.registerHandler("/api/v1/images", OffTheLoop(context, ListImages), {drogon::Get});
  app.registerHandler("/api/v1/images/{id}", OffTheLoop<std::string>(context, GetImage),
                      {drogon::Get});
  app.registerHandler("/api/v1/images/{id}", OffTheLoop<std::string>(context, DeleteImage),
                      {drogon::Delete});
  app.registerHandler("/api/v1/images/{id}/thumbnail",
                      OffTheLoop<std::string>(context, GetThumbnail), {drogon::Get});
  app.registerHandler("/api/v1/images/{id}/file", OffTheLoop<std::string>(context, GetFile),
                      {drogon::Get});
}

}  // namespace argus::api
