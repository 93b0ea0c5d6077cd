#pragma once

#include <json/value.h>

#include <string>
#include <string_view>

namespace argus {

// Parses JSON text into `value`; false when it is not JSON, with jsoncpp's reasons in
// `errors` when given.
bool ReadJson(std::string_view text, Json::Value& value, std::string* errors = nullptr);

}  // namespace argus
