#pragma once

#include <json/value.h>

#include "catalog/catalog.h"

namespace argus::api {

// The API's representation of an image: id, status, file facts, urls, timings, and when
// done the labels and spirit dog exactly as `argus classify --json` prints them.
Json::Value ImageJson(const catalog::ImageRecord& record);

}  // namespace argus::api
