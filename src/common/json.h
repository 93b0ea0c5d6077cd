#pragma once

#include <json/value.h>

#include <string>
#include <string_view>

namespace argus {

// Parses JSON text into `value`; false when it is not JSON, with jsoncpp's reasons in
// `errors` when given.
bool ReadJson(std::string_view text, Json::Value& value, std::string* errors = nullptr);

// `value` on one line, with numbers to six significant digits (0.328505, not
// 0.32850499999999999), as Drogon writes the JSON of HTTP answers. Bytes of its texts that
// are not UTF-8 (a file name from another system) are written as U+FFFD.
std::string WriteJson(const Json::Value& value);

}  // namespace argus
