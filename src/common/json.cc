#include "common/json.h"

#include <json/reader.h>

#include <memory>

namespace argus {

bool ReadJson(std::string_view text, Json::Value& value, std::string* errors) {
  const std::unique_ptr<Json::CharReader> reader(Json::CharReaderBuilder().newCharReader());
  return reader->parse(text.data(), text.data() + text.size(), &value, errors);
}

}  // namespace argus
