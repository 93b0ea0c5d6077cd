// GET /api/v1/events: status changes of the caller's images as server-sent events.
//
// Drogon 1.9.0 (Debian 13) cannot keep a response open and push to it later, so each
// response carries the events that are ready — waiting up to 25 s for the first — and
// ends; EventSource reconnects after `retry` ms with Last-Event-ID, and the next response
// continues from there. Clients see a live stream; nothing is lost while the id is still
// in the server's window of recent events, and a client whose id is older is told so.
#include <drogon/drogon.h>
#include <json/json.h>

#include <charconv>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "api/http_errors.h"
#include "api/image_json.h"
#include "api/off_the_loop.h"
#include "api/routes.h"
#include "common/json.h"

namespace argus::api {
namespace {

constexpr auto kLongPoll = std::chrono::seconds(25);
constexpr int kReconnectMs = 100;
constexpr std::size_t kMaxEventsPerResponse = 256;

HttpResponsePtr EventStream(const std::string& body) {
  auto response = HttpResponse::newHttpResponse();
  response->setContentTypeString("text/event-stream; charset=utf-8");
  response->addHeader("Cache-Control", "no-cache");
  response->setBody(std::format("retry: {}\n", kReconnectMs) + body);
  return response;
}

// The event id the client resumes after (Last-Event-ID, else ?after=): nullopt without one,
// kInvalidArgument for one that is not an id (it was taken for none, and the client silently
// started afresh).
Result<std::optional<std::uint64_t>> LastEventId(const HttpRequestPtr& request) {
  std::string text = request->getHeader("last-event-id");
  std::string_view source = "Last-Event-ID";
  if (text.empty()) {
    text = request->getParameter("after");
    source = "after";
  }
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Fail(
        ErrorCode::kInvalidArgument,
        std::format("{} must be an event id (a whole number from 0), not \"{}\"", source, text));
  }
  return value;
}

void Respond(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
             const std::string& owner, std::uint64_t after, EventHub::Clock::time_point deadline,
             const Callback& callback) {
  // Taken first: every event after it is in the slice below or still to come.
  const std::uint64_t now = context->hub.SequenceNow();
  // Events this client has not had are gone from the window (any account's activity fills
  // it): the stream starts again from now, and the client lists what it shows afresh.
  if (context->hub.Dropped(after)) {
    return callback(
        EventStream(std::format("id: {}\nevent: ready\ndata: {{\"missed\":true}}\n\n", now)));
  }
  // A bounded slice per response: a client far behind (Last-Event-ID: 0) catches up over
  // several reconnections instead of holding an I/O thread for the whole window.
  const std::vector<StatusEvent> events = context->hub.EventsAfter(after, kMaxEventsPerResponse);
  const bool cut_short = events.size() == kMaxEventsPerResponse;
  // The account's entry of each image the events name, as it stands now (nullopt: none).
  std::unordered_map<std::string_view, std::optional<catalog::ImageRecord>> entries;
  auto entry_of = [&](const std::string& id) -> const std::optional<catalog::ImageRecord>& {
    auto [entry, added] = entries.try_emplace(id);
    if (added) {
      if (auto record = context->catalog.Get(owner, id)) entry->second = std::move(*record);
    }
    return entry->second;
  };
  // Another account's upload or deletion of the same content is not for this one, and
  // neither is a worker's event (which names no account) from before this account uploaded
  // the content: it belonged to another account's round, and would tell when that was.
  auto for_this_account = [&](const StatusEvent& event) {
    if (!event.owner.empty()) return event.owner == owner;
    const auto& entry = entry_of(event.image_id);
    return entry.has_value() && event.arrived_at_ms() >= entry->uploaded_at_ms;
  };
  // Each image is sent as it stands now, so it is sent once, at its last event for this
  // account.
  std::unordered_map<std::string_view, std::uint64_t> last_event_of;
  for (const StatusEvent& event : events) {
    if (for_this_account(event)) last_event_of[event.image_id] = event.sequence;
  }
  std::string body;
  std::uint64_t last = after;
  for (const StatusEvent& event : events) {
    last = event.sequence;
    const auto last_of_image = last_event_of.find(event.image_id);
    if (last_of_image == last_event_of.end() || last_of_image->second != event.sequence) continue;
    if (event.status == "deleted") {
      Json::Value gone(Json::objectValue);
      gone["id"] = event.image_id;
      gone["status"] = "deleted";
      body += std::format("id: {}\nevent: image\ndata: {}\n\n", event.sequence, WriteJson(gone));
      continue;
    }
    const auto& entry = entry_of(event.image_id);
    if (!entry) continue;  // deleted since
    body += std::format("id: {}\nevent: image\ndata: {}\n\n", event.sequence,
                        WriteJson(ImageJson(*entry)));
  }
  if (!body.empty() || EventHub::Clock::now() >= deadline || context->hub.closed()) {
    // Carry the id forward even when only other owners' events passed: as the time of the
    // answer, which tells nothing of theirs, unless the slice was cut short before it.
    if (body.empty()) body = std::format(": no news\nid: {}\n\n", cut_short ? last : now);
    return callback(EventStream(body));
  }
  // Woken on the hub's thread, or the event bus's: the catalog is read on the handler pool.
  context->hub.WaitForEvents(last, deadline, [=] {
    context->handlers.Run([=] {
      // A log-out, a new password or a revoked token while the stream waited ends it: the
      // events that woke it came after.
      if (auto principal = RequireUser(*context, request); !principal) {
        return callback(principal.error());
      }
      Respond(context, request, owner, last, deadline, callback);
    });
  });
}

void StartStream(const std::shared_ptr<ApiContext>& context, const HttpRequestPtr& request,
                 Callback&& callback) {
  auto principal = RequireUser(*context, request);
  if (!principal) return callback(principal.error());
  const auto given = LastEventId(request);
  if (!given) return callback(ErrorResponse(given.error()));
  const std::optional<std::uint64_t>& seen = *given;
  const std::uint64_t after = seen ? context->hub.ResumeAfter(*seen) : 0;
  // No id, or one ahead of every event here: the stream starts now.
  if (!seen || after > context->hub.last_sequence()) {
    // A new stream starts now: tell the client where "now" is.
    return callback(EventStream(
        std::format("id: {}\nevent: ready\ndata: {{}}\n\n", context->hub.SequenceNow())));
  }
  Respond(context, request, principal->user.id, after, EventHub::Clock::now() + kLongPoll,
          callback);
}

}  // namespace

void RegisterEventRoutes(const std::shared_ptr<ApiContext>& context) {
  drogon::app().registerHandler("/api/v1/events", OffTheLoop(context, StartStream), {drogon::Get});
}

}  // namespace argus::api
