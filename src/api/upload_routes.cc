// POST / and /classify (the classic course protocol) and POST /api/v1/images.
#include <drogon/drogon.h>

#include <algorithm>
#include <charconv>
#include <expected>
#include <format>
#include <optional>
#include <set>
#include <span>
#include <string_view>

#include "api/http_errors.h"
#include "api/image_json.h"
#include "api/off_the_loop.h"
#include "api/routes.h"
#include "common/ascii.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/peer_key.h"
#include "common/sha256.h"
#include "common/utf8.h"
#include "image/completeness.h"
#include "image/probe.h"
#include "worker/job.h"
#include "worker/worker.h"

namespace argus::api {
namespace {

struct ValidUpload {
  std::string id;
  std::string filename;
  std::string content_type;
  std::string_view bytes;
  image::ImageInfo info;
};

std::string ContentTypeOf(std::string_view format) {
  if (format == "jpeg") return "image/jpeg";
  if (format == "heif") return "image/heic";
  return "image/" + std::string(format);
}

// The name a file is shown by: clients may send a path ("C:\\fakepath\\cat.jpg" from old
// browsers, "../cat.jpg" from scripts), of which only the last part names the file. Names are
// text for the web app and the catalog (PostgreSQL takes only UTF-8 without NUL), so control
// characters and bytes that are not UTF-8 become U+FFFD, and they are cut to 255 bytes at a
// character boundary.
//
// Browsers send a quote in a name as %22 and line breaks as %0D and %0A (HTML's
// multipart/form-data encoding, which escapes nothing else), so those three are read back.
std::string DisplayName(std::string_view sent) {
  constexpr std::size_t kMaxNameBytes = 255;
  if (const std::size_t slash = sent.find_last_of("/\\"); slash != std::string_view::npos) {
    sent.remove_prefix(slash + 1);
  }
  std::string named;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const std::string_view escape = sent.substr(i, 3);
    if (escape == "%22" || escape == "%0D" || escape == "%0A") {
      named += escape == "%22" ? '"' : escape == "%0D" ? '\r' : '\n';
      i += 2;
    } else {
      named += sent[i];
    }
  }
  std::string printable;
  for (const char c : named) {
    const auto byte = static_cast<unsigned char>(c);
    printable += byte < 0x20 || byte == 0x7F ? std::string_view("\uFFFD") : std::string_view(&c, 1);
  }
  std::string shown = MadeUtf8(printable);
  if (shown.size() > kMaxNameBytes) {
    std::size_t end = kMaxNameBytes;
    while (end > 0 && (static_cast<unsigned char>(shown[end]) & 0xC0) == 0x80) --end;
    shown.resize(end);
  }
  return shown;
}

// The file's name as the client gave it, else its form field's.
std::string NameOf(const drogon::HttpFile& file) {
  std::string name = DisplayName(file.getFileName());
  return name.empty() ? file.getItemName() : name;
}

Result<ValidUpload> Validate(const drogon::HttpFile& file, const image::Limits& limits) {
  const std::string name = NameOf(file);
  const std::string_view bytes = file.fileContent();
  if (bytes.empty()) return Fail(ErrorCode::kInvalidArgument, name + ": the file is empty");
  if (bytes.size() > limits.max_bytes) {
    return Fail(ErrorCode::kTooLarge, std::format("{}: {} bytes is over the limit of {} bytes",
                                                  name, bytes.size(), limits.max_bytes));
  }
  auto info = image::Probe(AsBytes(bytes), limits);
  if (!info) return Fail(info.error().code, name + ": " + info.error().message);
  if (auto complete = image::CheckComplete(AsBytes(bytes), info->format); !complete) {
    return Fail(complete.error().code, name + ": " + complete.error().message);
  }
  return ValidUpload{Sha256Hex(bytes), name, ContentTypeOf(info->format), bytes, *info};
}

// The Content-Length the client sent; nullopt without one (a chunked body).
std::optional<std::size_t> DeclaredLength(const drogon::HttpRequest& request) {
  const std::string& text = request.getHeader("content-length");
  std::size_t length = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), length);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return length;
}

// Media types are case-insensitive (RFC 9110, section 8.3.1).
bool IsMultipartFormData(const HttpRequestPtr& request) {
  return StartsWithIgnoringCase(request->getHeader("content-type"), "multipart/form-data");
}

// Parameter names are case-insensitive too, but Drogon's multipart parser finds the boundary
// only as "boundary=": the header is given it so.
void LowercaseTheBoundaryParameter(const HttpRequestPtr& request) {
  std::string content_type = request->getHeader("content-type");
  const std::size_t boundary = AsciiLowercase(content_type).find("boundary=");
  if (boundary == std::string::npos || content_type.compare(boundary, 9, "boundary=") == 0) return;
  content_type.replace(boundary, 9, "boundary=");
  request->addHeader("content-type", content_type);
}

// Why a request's files were not taken: the first file refused, or the request itself; with
// every file refused listed in `members["refused"]`, so that a client with many files learns
// of each bad one at once.
struct UploadsRefused {
  Error error;
  Json::Value members{Json::objectValue};

  UploadsRefused(Error first) : error(std::move(first)) {}  // NOLINT(google-explicit-constructor)
};

HttpResponsePtr RefusalResponse(const UploadsRefused& refused) {
  return ErrorResponse(refused.error, refused.members);
}

// Parses the multipart body and validates every file; nothing is stored unless all pass.
// With a `required_field`, the request carries exactly one file in that field (POST /).
std::expected<std::vector<ValidUpload>, UploadsRefused> ParseUploads(
    const HttpRequestPtr& request, drogon::MultiPartParser& parser, const ApiOptions& options,
    std::string_view required_field) {
  if (!IsMultipartFormData(request)) {
    return Fail(ErrorCode::kInvalidArgument,
                "expected a multipart/form-data body with image files");
  }
  LowercaseTheBoundaryParameter(request);
  // Drogon spools a body over 1 MB to a file without checking its writes: on a full disk the
  // body reaches us cut short, and would read as the client's malformed request.
  if (const std::optional<std::size_t> declared = DeclaredLength(*request);
      declared && request->body().size() < *declared) {
    return Fail(ErrorCode::kNoSpace, "the server has no room left to receive the upload");
  }
  if (parser.parse(request) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "malformed multipart/form-data body");
  }
  if (parser.getFiles().empty() && parser.getParameters().empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "malformed multipart/form-data body: no part found between its boundaries");
  }
  if (!required_field.empty() &&
      std::ranges::count(parser.getFiles(), required_field, &drogon::HttpFile::getItemName) > 1) {
    return Fail(
        ErrorCode::kInvalidArgument,
        std::format("send one file in \"{}\", or several to /api/v1/images", required_field));
  }
  std::vector<ValidUpload> uploads;
  std::optional<UploadsRefused> refused;
  for (const drogon::HttpFile& file : parser.getFiles()) {
    if (!required_field.empty() && file.getItemName() != required_field) continue;
    auto upload = Validate(file, options.limits);
    if (upload) {
      uploads.push_back(std::move(*upload));
      continue;
    }
    if (!refused) {
      refused.emplace(upload.error());
      refused->members["refused"] = Json::Value(Json::arrayValue);
    }
    Json::Value entry(Json::objectValue);
    entry["file"] = NameOf(file);
    entry["code"] = std::string(ErrorCodeName(upload.error().code));
    entry["message"] = upload.error().message;
    refused->members["refused"].append(entry);
  }
  if (refused) {
    if (const Json::ArrayIndex more = refused->members["refused"].size() - 1; more > 0) {
      refused->error.message +=
          std::format(" (and {} more file{} refused: see \"refused\")", more, more == 1 ? "" : "s");
    }
    return std::unexpected(std::move(*refused));
  }
  if (uploads.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                required_field.empty()
                    ? std::string("no image file in the request")
                    : "missing file field \"" + std::string(required_field) + "\"");
  }
  if (uploads.size() > options.max_files_per_request) {
    return Fail(ErrorCode::kTooLarge,
                std::format("at most {} files per request", options.max_files_per_request));
  }
  return uploads;
}

// The client names no blob key, so a clash of keys in the store (kConflict: a folder where a
// file belongs) is the server's fault, answered 500 without the store's details.
Error ServerFault(Error error) {
  if (error.code == ErrorCode::kConflict) error.code = ErrorCode::kInternal;
  return error;
}

HttpResponsePtr ShuttingDown() {
  return ErrorResponse(drogon::k503ServiceUnavailable, "shutting_down",
                       "the server is shutting down; retry shortly");
}

HttpResponsePtr QueueFull(std::uint64_t waiting) {
  return ErrorResponse(drogon::k503ServiceUnavailable, "queue_full",
                       std::format("{} images are waiting; retry shortly", waiting));
}

// Enqueues the job of an image the catalog says needs one, unless a concurrent upload of the
// same content in this process (held back by the image's lock) queued it for the same round
// and has not yet written its mark.
Result<void> EnqueueUnlessHeld(ApiContext& context, const catalog::ImageRecord& image,
                               BacklogReservation& backlog) {
  catalog::JobMark mark{.image_id = image.id, .round_ms = image.created_at_ms};
  if (context.job_marks.Holds(mark)) return {};
  if (auto enqueued = worker::EnqueueJob(context.queue, image.id, NowMs()); !enqueued) {
    return enqueued;
  }
  backlog.CountQueued();
  context.job_marks.Add(std::move(mark));
  return {};
}

// A failed Store: why, and the image when the upload was recorded before the failure. That
// image stays (the recovery sweep queues a job it lacks within a minute): the answer lists it
// with the others stored, or the client that took the refusal at its word found the photo
// classified in its gallery a minute later.
struct StoreFailure {
  Error error;
  std::optional<catalog::ImageRecord> recorded;
  // The account was deleted meanwhile: what it had stored went with it.
  bool account_gone = false;
};

// Stores the bytes, records the upload and, for new content, enqueues its job. The bytes
// are written before the catalog row and the job, and the job's mark in the catalog
// follows the job (a moment later, with other uploads' marks: JobMarks), so a crash of a
// process at any point leaves either nothing the client was promised or an image that
// recovery re-enqueues. With DurabilityLevel::kPowerLoss the bytes reach stable storage
// before the client is answered, but after the job is queued: a worker can start on them
// meanwhile.
std::expected<catalog::ImageRecord, StoreFailure> Store(ApiContext& context,
                                                        const std::string& owner,
                                                        const ValidUpload& upload,
                                                        BacklogReservation& backlog) {
  const std::string key = worker::InputKey(upload.id);
  const std::unique_lock held = context.LockImage(upload.id);
  auto store_bytes_unless_there = [&]() -> Result<bool> {
    auto exists = context.blobs.Exists(key);
    if (!exists) return std::unexpected(ServerFault(exists.error()));
    if (*exists) return false;
    if (auto put = context.blobs.Put(key, AsBytes(upload.bytes), upload.content_type,
                                     blob::Durability::kRecreatable);
        !put) {
      return std::unexpected(ServerFault(put.error()));
    }
    return true;
  };
  auto stored = store_bytes_unless_there();
  if (!stored) return std::unexpected(StoreFailure{stored.error()});
  // New bytes are almost always a new image: an idle worker can decode it while the catalog
  // records it and the queue takes its job.
  if (*stored && context.decode_ahead) worker::AnnounceUpload(*context.decode_ahead, upload.id);
  auto added =
      context.catalog.AddUpload({.id = upload.id,
                                 .owner = owner,
                                 .filename = upload.filename,
                                 .content_type = upload.content_type,
                                 .size_bytes = static_cast<std::int64_t>(upload.bytes.size()),
                                 .width = upload.info.width,
                                 .height = upload.info.height});
  if (!added) {
    // Bytes written just now that no image records would belong to no one, and stay for good
    // (a catalog that cannot be written, a full disk). Those another upload of the same
    // content has recorded meanwhile, through another replica, stay theirs.
    if (*stored) {
      if (auto image = context.catalog.GetImage(upload.id);
          !image && image.error().code == ErrorCode::kNotFound) {
        (void)context.blobs.Delete(key);
      }
    }
    if (added.error().code != ErrorCode::kNotFound) {
      return std::unexpected(StoreFailure{added.error()});
    }
    return std::unexpected(StoreFailure{
        .error = {ErrorCode::kConflict, "the account was deleted while this upload was on its way"},
        .account_gone = true});
  }
  if (added->needs_job) {
    // A removal of the content's last copy (through any replica) may have deleted the bytes
    // found above before this upload was recorded as a new image (Catalog::Remove); and
    // another replica's sweep of objects of no image (ApiContext::RemoveObjectsOfNoImage) may
    // have deleted the bytes, found or just written, before the record: looked for again after
    // it, they are either there or stored anew.
    if (auto restored = store_bytes_unless_there(); !restored) {
      return std::unexpected(StoreFailure{restored.error(), added->record});
    }
  }
  if (added->needs_job) {
    if (auto enqueued = EnqueueUnlessHeld(context, added->record, backlog); !enqueued) {
      return std::unexpected(StoreFailure{enqueued.error(), added->record});
    }
  }
  // Also when the bytes were there already: a concurrent upload of the same content may
  // not have made them durable yet.
  if (context.options.upload_durability == DurabilityLevel::kPowerLoss) {
    if (auto durable = context.blobs.MakeDurable(key); !durable) {
      return std::unexpected(StoreFailure{durable.error(), added->record});
    }
  }
  return added->record;
}

// Refuses new work while shutting down, and new images whose jobs would take the backlog over
// its bound; otherwise reserves room for them. Content stored before adds no job, so it is
// answered whatever the backlog, unless it failed: sent again, it is queued for another round.
std::expected<BacklogReservation, HttpResponsePtr> RefuseWhenOverloaded(
    ApiContext& context, std::span<const ValidUpload> uploads) {
  if (context.draining) return std::unexpected(ShuttingDown());
  if (drogon::HttpResponsePtr gone = context.StoreFileGone()) return std::unexpected(gone);
  // Copies of one photo in a request add one job: they count once.
  std::set<std::string_view> distinct;
  for (const ValidUpload& upload : uploads) distinct.insert(upload.id);
  // Most uploads are of new content: the catalog is asked only when they would not all fit.
  auto all_new = context.ReserveBacklog(distinct.size());
  if (!all_new) return std::unexpected(ErrorResponse(all_new.error()));
  if (std::optional<BacklogReservation>& room = all_new->reservation; room.has_value()) {
    return std::move(room.value());
  }
  std::uint64_t new_images = 0;
  for (const std::string_view id : distinct) {
    auto stored = context.catalog.GetImage(id);
    if (!stored && stored.error().code != ErrorCode::kNotFound) {
      return std::unexpected(ErrorResponse(stored.error()));
    }
    new_images += !stored || stored->status == catalog::ImageStatus::kFailed ? 1 : 0;
  }
  if (new_images == 0) return BacklogReservation();
  auto check = context.ReserveBacklog(new_images);
  if (!check) return std::unexpected(ErrorResponse(check.error()));
  if (std::optional<BacklogReservation>& room = check->reservation; room.has_value()) {
    return std::move(room.value());
  }
  // However short the queue gets, these never fit: retrying would loop for good.
  if (new_images > context.options.max_queue_depth) {
    return std::unexpected(ErrorResponse(
        drogon::k413RequestEntityTooLarge, "too_large",
        std::format("{} new images in one request; the queue holds at most {}: send fewer at once",
                    new_images, context.options.max_queue_depth)));
  }
  return std::unexpected(QueueFull(check->waiting));
}

// The course protocol's answer: the top label as plain text.
HttpResponsePtr LabelResponse(const std::string& label) {
  auto response = HttpResponse::newHttpResponse();
  response->setContentTypeCode(drogon::CT_TEXT_PLAIN);
  response->setBody(label);
  return response;
}

// `owner` is "" for an anonymous upload, whose record only a repeated upload can read.
// `stopping`: the server ended the wait before its deadline.
HttpResponsePtr ClassifyResponse(const Result<catalog::ImageRecord>& image,
                                 const std::string& owner, bool stopping) {
  if (!image) return ErrorResponse(image.error());
  if (image->status == catalog::ImageStatus::kFailed) {
    return ErrorResponse(drogon::k422UnprocessableEntity, "classification_failed", image->error);
  }
  if (image->status != catalog::ImageStatus::kDone && stopping) {
    return ErrorResponse(drogon::k503ServiceUnavailable, "shutting_down",
                         "the server is shutting down before the result came; the image stays "
                         "queued, and sending it again later answers with its result");
  }
  if (image->status != catalog::ImageStatus::kDone) {
    return ErrorResponse(drogon::k504GatewayTimeout, "timeout",
                         owner.empty() ? "no result yet; the image stays queued, and sending it "
                                         "again later answers with its result at once"
                                       : "no result yet; poll /api/v1/images/" + image->id);
  }
  return LabelResponse(ImageJson(*image)["labels"][0]["name"].asString());
}

// A POST / that waits for its image's result.
struct PendingClassification {
  std::shared_ptr<ApiContext> context;
  std::string owner;
  std::string id;
  EventHub::Clock::time_point deadline;
  Callback callback;
  std::shared_ptr<EventHub::WaitingClient> waiting;
  std::atomic<bool> answered = false;

  void Answer(const HttpResponsePtr& response) {
    if (answered.exchange(true)) return;
    callback(response);
    waiting->Answered();
  }
};

// The catalog decides: on the periodic re-check, at the deadline, on a failure, or for a
// result that an earlier delivery stored. It is read on the handler pool, since this may run
// on the hub's thread.
void AskCatalog(const std::shared_ptr<PendingClassification>& pending) {
  if (pending->answered) return;
  pending->context->handlers.Run([pending] {
    AwaitImage(
        pending->context, pending->owner, pending->id, pending->deadline,
        [pending](Result<catalog::ImageRecord> image) {
          pending->Answer(ClassifyResponse(image, pending->owner, pending->context->hub.closed()));
        });
  });
}

bool IsUnderWay(const StatusEvent& event) {
  return event.status == "uploaded" || event.status == "queued" || event.status == "processing";
}

// Answers from the worker's `done` event, which carries the top label it stored, without
// reading the catalog. An event after `after_sequence` that came before the wait began
// counts too.
void AwaitLabel(const std::shared_ptr<PendingClassification>& pending,
                std::uint64_t after_sequence) {
  EventHub& hub = pending->context->hub;
  hub.WaitForImage(pending->id, pending->deadline, [pending](const StatusEvent* event) {
    if (event != nullptr && event->status == "done" && !event->top_label.empty()) {
      return pending->Answer(LabelResponse(event->top_label));
    }
    if (event != nullptr && IsUnderWay(*event)) return AwaitLabel(pending, event->sequence);
    AskCatalog(pending);
  });
  const std::optional<StatusEvent> earlier = hub.LatestEventFor(pending->id, after_sequence);
  if (!earlier || IsUnderWay(*earlier)) return;  // the wait just begun covers it
  if (earlier->status == "done" && !earlier->top_label.empty()) {
    return pending->Answer(LabelResponse(earlier->top_label));
  }
  AskCatalog(pending);
}

void ClassifySync(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                  Callback&& callback) {
  auto principal = Identify(*context, request);
  // A session that has ended, whose cookie the browser still sends, is no credential at all:
  // it does not stop a classification anyone may ask for.
  if (!principal && context->options.allow_anonymous_classify &&
      request->getHeader("authorization").empty() &&
      principal.error()->statusCode() == drogon::k401Unauthorized) {
    principal = std::optional<auth::Principal>();
  }
  if (!principal) return callback(principal.error());
  const std::optional<auth::Principal>& identified = *principal;
  if (!identified && !context->options.allow_anonymous_classify) {
    return callback(
        ErrorResponse(drogon::k401Unauthorized, "unauthenticated", "log in or send an API token"));
  }
  drogon::MultiPartParser parser;
  auto uploads = ParseUploads(request, parser, context->options, "myfile");
  if (!uploads) return callback(RefusalResponse(uploads.error()));
  auto backlog = RefuseWhenOverloaded(*context, *uploads);
  if (!backlog) return callback(backlog.error());
  // Anonymous uploads belong to nobody: no account can list or fetch them.
  const std::string owner = identified ? identified->user.id : "";
  // The result's event may come while the upload is still being stored.
  const std::uint64_t before_store = context->hub.last_sequence();
  auto record = Store(*context, owner, uploads->front(), *backlog);
  if (!record) return callback(ErrorResponse(record.error().error));
  if (!owner.empty()) {
    context->Announce(std::vector<worker::ImageEvent>{
        {.image_id = record->id, .status = "uploaded", .owner = owner}});
  }
  if (catalog::IsFinal(record->status)) {
    return callback(ClassifyResponse(*record, owner, false));
  }
  auto pending = std::make_shared<PendingClassification>();
  pending->context = context;
  pending->owner = owner;
  pending->id = record->id;
  pending->deadline = EventHub::Clock::now() + context->options.sync_timeout;
  pending->callback = std::move(callback);
  pending->waiting = context->hub.ClientStartsWaiting(PeerKey(request->peerAddr().getSockAddr()));
  AwaitLabel(pending, before_store);
}

void UploadImages(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                  Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  drogon::MultiPartParser parser;
  auto uploads = ParseUploads(request, parser, context->options, "");
  if (!uploads) return callback(RefusalResponse(uploads.error()));
  auto backlog = RefuseWhenOverloaded(*context, *uploads);
  if (!backlog) return callback(backlog.error());
  const std::string& owner = principal->user.id;
  Json::Value body(Json::objectValue);
  body["images"] = Json::Value(Json::arrayValue);
  std::vector<worker::ImageEvent> uploaded;
  for (const ValidUpload& upload : *uploads) {
    auto record = Store(*context, owner, upload, *backlog);
    if (!record) {
      // The files stored before stay, and this one if it was recorded; the answer lists them,
      // in request order, so that a client resends only the rest.
      if (const auto& recorded = record.error().recorded) {
        body["images"].append(ImageJson(*recorded));
        uploaded.push_back({.image_id = recorded->id, .status = "uploaded", .owner = owner});
      }
      if (record.error().account_gone) body["images"] = Json::Value(Json::arrayValue);
      context->Announce(uploaded);
      return callback(ErrorResponse(record.error().error, body));
    }
    body["images"].append(ImageJson(*record));
    uploaded.push_back({.image_id = record->id, .status = "uploaded", .owner = owner});
  }
  context->Announce(uploaded);
  auto response = HttpResponse::newHttpJsonResponse(body);
  response->setStatusCode(drogon::k202Accepted);
  if (uploads->size() == 1) {
    response->addHeader("Location", "/api/v1/images/" + uploads->front().id);
  }
  callback(response);
}

// A failed image of the caller's gets another round, as uploading it again would give it,
// without sending the bytes again.
void RetryImage(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                Callback&& callback, const std::string& id) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const std::string& owner = principal->user.id;
  if (context->draining) return callback(ShuttingDown());
  auto room = context->ReserveBacklog(1);
  if (!room) return callback(ErrorResponse(room.error()));
  std::optional<BacklogReservation>& reserved = room->reservation;
  if (!reserved.has_value()) return callback(QueueFull(room->waiting));
  BacklogReservation backlog = std::move(reserved.value());
  const std::unique_lock held = context->LockImage(id);
  auto image = context->catalog.Get(owner, id);
  if (!image) return callback(ErrorResponse(image.error()));
  // Without its bytes, another round would only fail again. (An image that did not fail is
  // refused below, for that.)
  if (image->status == catalog::ImageStatus::kFailed) {
    auto stored = context->blobs.Exists(worker::InputKey(id));
    if (!stored) return callback(ErrorResponse(ServerFault(stored.error())));
    if (!*stored) {
      return callback(ErrorResponse(drogon::k409Conflict, "file_missing",
                                    "the photo's file is gone; delete it and upload it again"));
    }
  }
  auto requeued = context->catalog.Requeue(owner, id);
  if (!requeued) return callback(ErrorResponse(requeued.error()));
  if (auto enqueued = EnqueueUnlessHeld(*context, requeued->record, backlog); !enqueued) {
    return callback(ErrorResponse(enqueued.error()));
  }
  context->Announce(
      std::vector<worker::ImageEvent>{{.image_id = id, .status = "queued", .owner = owner}});
  auto response = HttpResponse::newHttpJsonResponse(ImageJson(requeued->record));
  response->setStatusCode(drogon::k202Accepted);
  callback(response);
}

}  // namespace

void RegisterUploadRoutes(const std::shared_ptr<ApiContext>& context) {
  for (const char* path : {"/", "/classify"}) {
    drogon::app().registerHandler(path, OffTheLoop(context, ClassifySync), {drogon::Post});
  }
  drogon::app().registerHandler("/api/v1/images", OffTheLoop(context, UploadImages),
                                {drogon::Post});
  drogon::app().registerHandler("/api/v1/images/{id}/retry",
                                OffTheLoop<std::string>(context, RetryImage), {drogon::Post});
}

}  // namespace argus::api
