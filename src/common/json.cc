#include "common/json.h"

#include <glib.h>
#include <json/reader.h>
#include <json/writer.h>

#include <algorithm>
#include <memory>
#include <string_view>

#include "common/utf8.h"

namespace argus {

bool ReadJson(std::string_view text, Json::Value& value, std::string* errors) {
  const std::unique_ptr<Json::CharReader> reader(Json::CharReaderBuilder().newCharReader());
  return reader->parse(text.data(), text.data() + text.size(), &value, errors);
}

namespace {

bool AllTextIsUtf8(const Json::Value& value) {
  if (value.isString()) return IsUtf8(value.asString());
  if (value.isArray()) {
    return std::ranges::all_of(value, [](const Json::Value& item) { return AllTextIsUtf8(item); });
  }
  if (value.isObject()) {
    for (auto member = value.begin(); member != value.end(); ++member) {
      if (!IsUtf8(member.name()) || !AllTextIsUtf8(*member)) return false;
    }
  }
  return true;
}

Json::Value WithUtf8Text(const Json::Value& value) {
  if (value.isString()) return MadeUtf8(value.asString());
  if (value.isArray()) {
    Json::Value made(Json::arrayValue);
    for (const Json::Value& item : value) made.append(WithUtf8Text(item));
    return made;
  }
  if (value.isObject()) {
    Json::Value made(Json::objectValue);
    for (auto member = value.begin(); member != value.end(); ++member) {
      made[MadeUtf8(member.name())] = WithUtf8Text(*member);
    }
    return made;
  }
  return value;
}

}  // namespace

std::string WriteJson(const Json::Value& value) {
  Json::StreamWriterBuilder writer;
  writer["indentation"] = "";
  writer["precision"] = 6;
  // jsoncpp takes a byte that is not UTF-8 for the start of a character and writes what it
  // makes of the bytes after it: "caf\xE9.jpg" came out as "caf\u9baapg".
  if (!AllTextIsUtf8(value)) return Json::writeString(writer, WithUtf8Text(value));
  return Json::writeString(writer, value);
}

}  // namespace argus
