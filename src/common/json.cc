#include "common/json.h"

#include <json/reader.h>
#include <json/writer.h>

#include <memory>

namespace argus {

bool ReadJson(std::string_view text, Json::Value& value, std::string* errors) {
  const std::unique_ptr<Json::CharReader> reader(Json::CharReaderBuilder().newCharReader());
  return reader->parse(text.data(), text.data() + text.size(), &value, errors);
}

std::string WriteJson(const Json::Value& value) {
  Json::StreamWriterBuilder writer;
  writer["indentation"] = "";
  writer["precision"] = 6;
  return Json::writeString(writer, value);
}

}  // namespace argus
