#pragma once

// Test-only: parses JSON text, failing the test when it is not JSON.

#include <gtest/gtest.h>
#include <json/json.h>

#include <memory>
#include <string_view>

namespace argus {

inline Json::Value ParseJson(std::string_view text) {
  Json::Value value;
  const std::unique_ptr<Json::CharReader> reader(Json::CharReaderBuilder().newCharReader());
  EXPECT_TRUE(reader->parse(text.data(), text.data() + text.size(), &value, nullptr)) << text;
  return value;
}

}  // namespace argus
