#include "worker/job.h"

#include <json/json.h>

#include <algorithm>

#include "common/json.h"

namespace argus::worker {
namespace {

bool IsSha256Hex(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string EncodeJob(const Job& job) {
  Json::Value value(Json::objectValue);
  value["image_id"] = job.image_id;
  value["enqueued_at_ms"] = static_cast<Json::Int64>(job.enqueued_at_ms);
  return WriteJson(value);
}

Result<void> EnqueueJob(queue::Queue& queue, std::string_view image_id, std::int64_t now_ms) {
  if (auto enqueued = queue.Enqueue(EncodeJob({std::string(image_id), now_ms})); !enqueued) {
    return std::unexpected(enqueued.error());
  }
  return {};
}

Result<Job> DecodeJob(std::string_view body) {
  Json::Value value;
  if (!ReadJson(body, value) || !value.isObject() || !value["image_id"].isString() ||
      !IsSha256Hex(value["image_id"].asString())) {
    return Fail(ErrorCode::kInvalidArgument, "malformed job: " + std::string(body.substr(0, 200)));
  }
  return Job{value["image_id"].asString(),
             value["enqueued_at_ms"].isInt64() ? value["enqueued_at_ms"].asInt64() : 0};
}

std::vector<std::string> EncodeImageEvents(std::span<const ImageEvent> events) {
  std::vector<std::string> messages;
  for (std::size_t first = 0; first < events.size(); first += kImageEventsPerMessage) {
    Json::Value message(Json::objectValue);
    message["kind"] = "images";
    Json::Value& list = message["events"] = Json::Value(Json::arrayValue);
    for (const ImageEvent& event :
         events.subspan(first, std::min(kImageEventsPerMessage, events.size() - first))) {
      Json::Value value(Json::objectValue);
      value["id"] = event.image_id;
      value["status"] = event.status;
      if (!event.top_label.empty()) value["top_label"] = event.top_label;
      if (event.settled) value["settled"] = true;
      if (!event.owner.empty()) value["owner"] = event.owner;
      list.append(std::move(value));
    }
    messages.push_back(WriteJson(message));
  }
  return messages;
}

std::string EncodeBatchEvent(const BatchEvent& event) {
  Json::Value value(Json::objectValue);
  value["kind"] = "batch";
  value["size"] = static_cast<Json::UInt64>(event.size);
  value["inference_ms"] = event.inference_ms;
  value["decode_ms"] = event.decode_ms;
  value["queue_wait_ms"] = event.queue_wait_ms;
  value["decoded_ahead"] = static_cast<Json::UInt64>(event.decoded_ahead);
  return WriteJson(value);
}

Result<WorkerEvent> DecodeWorkerEvent(std::string_view message) {
  auto invalid = [message] {
    return Fail(ErrorCode::kInvalidArgument,
                "not a worker event: " + std::string(message.substr(0, 200)));
  };
  Json::Value value;
  if (!ReadJson(message, value) || !value.isObject()) return invalid();
  const Json::Value& kind = value["kind"];
  if (kind == "images" && value["events"].isArray()) {
    std::vector<ImageEvent> events;
    events.reserve(value["events"].size());
    for (const Json::Value& event : value["events"]) {
      if (!event.isObject() || !event["id"].isString() || !event["status"].isString() ||
          !(event["top_label"].isNull() || event["top_label"].isString()) ||
          !(event["settled"].isNull() || event["settled"].isBool()) ||
          !(event["owner"].isNull() || event["owner"].isString())) {
        return invalid();
      }
      events.push_back({.image_id = event["id"].asString(),
                        .status = event["status"].asString(),
                        .top_label = event["top_label"].asString(),
                        .settled = event["settled"].asBool(),
                        .owner = event["owner"].asString()});
    }
    return events;
  }
  if (kind == "batch" && value["size"].isUInt64() && value["inference_ms"].isNumeric() &&
      value["decode_ms"].isNumeric() && value["queue_wait_ms"].isNumeric() &&
      value["decoded_ahead"].isUInt64()) {
    return BatchEvent{.size = value["size"].asUInt64(),
                      .inference_ms = value["inference_ms"].asDouble(),
                      .decode_ms = value["decode_ms"].asDouble(),
                      .queue_wait_ms = value["queue_wait_ms"].asDouble(),
                      .decoded_ahead = value["decoded_ahead"].asUInt64()};
  }
  return invalid();
}

}  // namespace argus::worker
