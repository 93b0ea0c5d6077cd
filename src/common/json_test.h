#pragma once

// Test-only: parses JSON text, failing the test when it is not JSON.

#include <gtest/gtest.h>
#include <json/value.h>

#include <string_view>

#include "common/json.h"

namespace argus {

inline Json::Value ParseJson(std::string_view text) {
  Json::Value value;
  EXPECT_TRUE(ReadJson(text, value)) << text;
  return value;
}

}  // namespace argus
