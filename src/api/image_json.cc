#include "api/image_json.h"

#include <json/json.h>

#include "common/json.h"

namespace argus::api {

Json::Value ImageJson(const catalog::ImageRecord& record) {
  Json::Value image(Json::objectValue);
  image["id"] = record.id;
  image["status"] = std::string(catalog::StatusName(record.status));
  image["filename"] = record.filename;
  image["content_type"] = record.content_type;
  image["size_bytes"] = static_cast<Json::Int64>(record.size_bytes);
  image["width"] = record.width;
  image["height"] = record.height;
  image["uploaded_at_ms"] = static_cast<Json::Int64>(record.uploaded_at_ms);
  // Tells a client an image's new round (a retry after a failure) from a late event of the
  // round before.
  image["queued_at_ms"] = static_cast<Json::Int64>(record.created_at_ms);
  image["urls"]["self"] = "/api/v1/images/" + record.id;
  image["urls"]["file"] = "/api/v1/images/" + record.id + "/file";
  if (record.status == catalog::ImageStatus::kFailed) image["error"] = record.error;
  if (record.status == catalog::ImageStatus::kDone && !record.result_json.empty()) {
    Json::Value result;
    if (ReadJson(record.result_json, result)) {
      image["labels"] = result["labels"];
      if (result.isMember("spirit_dog")) image["spirit_dog"] = result["spirit_dog"];
    }
    image["model"] = record.model;
  }
  Json::Value& timings = image["timings"] = Json::Value(Json::objectValue);
  if (record.started_at_ms > 0) {
    timings["queued_ms"] = static_cast<Json::Int64>(record.started_at_ms - record.created_at_ms);
  }
  if (record.finished_at_ms > 0) {
    timings["total_ms"] = static_cast<Json::Int64>(record.finished_at_ms - record.created_at_ms);
    timings["inference_ms"] = record.inference_ms;
  }
  return image;
}

}  // namespace argus::api
