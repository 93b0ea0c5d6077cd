#include "api/image_json.h"

#include <json/json.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "engine/taxonomy.h"

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
  // Times are counted from the round's start as this owner saw it: from their own upload when
  // another account's had started the round, whose time is not theirs to know.
  const std::int64_t round_start = std::max(record.created_at_ms, record.uploaded_at_ms);
  auto since_round_start = [round_start](std::int64_t time_ms) {
    return static_cast<Json::Int64>(std::max<std::int64_t>(0, time_ms - round_start));
  };
  // Tells a client an image's new round (a retry after a failure) from a late event of the
  // round before: it grows with each.
  image["queued_at_ms"] = static_cast<Json::Int64>(round_start);
  image["urls"]["self"] = "/api/v1/images/" + record.id;
  image["urls"]["file"] = "/api/v1/images/" + record.id + "/file";
  if (record.status == catalog::ImageStatus::kFailed) image["error"] = record.error;
  if (record.status == catalog::ImageStatus::kDone && !record.result_json.empty()) {
    Json::Value result;
    if (ReadJson(record.result_json, result)) {
      image["labels"] = result["labels"];
      // The categories of the day, as the search index has them: a result stored before a
      // category was added (buses became vehicles) is found by it and shows it.
      for (Json::Value& label : image["labels"]) {
        const auto offset = label.isObject() && label["wnid"].isString()
                                ? engine::Taxonomy::OffsetOfWnid(label["wnid"].asString())
                                : std::nullopt;
        if (!offset) continue;
        Json::Value& parents = label["parents"] = Json::Value(Json::arrayValue);
        for (std::string_view parent : engine::Taxonomy::ParentsOf(*offset)) {
          parents.append(std::string(parent));
        }
      }
      if (result.isMember("spirit_dog")) image["spirit_dog"] = result["spirit_dog"];
    }
    image["model"] = record.model;
  }
  Json::Value& timings = image["timings"] = Json::Value(Json::objectValue);
  if (record.started_at_ms > 0) timings["queued_ms"] = since_round_start(record.started_at_ms);
  if (record.finished_at_ms > 0) {
    timings["total_ms"] = since_round_start(record.finished_at_ms);
    timings["inference_ms"] = record.inference_ms;
  }
  return image;
}

}  // namespace argus::api
