#include "common/json.h"

#include <gtest/gtest.h>

namespace argus {
namespace {

TEST(JsonTest, WritesOneLineWithSixSignificantDigits) {
  Json::Value value(Json::objectValue);
  value["confidence"] = 0.328505;
  value["labels"] = Json::Value(Json::arrayValue);
  value["labels"].append("candle");
  value["time_ms"] = static_cast<Json::Int64>(1796574163849);
  EXPECT_EQ(WriteJson(value),
            R"({"confidence":0.328505,"labels":["candle"],"time_ms":1796574163849})");
}

TEST(JsonTest, WhatItWritesReadsBack) {
  Json::Value value(Json::objectValue);
  value["name"] = "line\nbreak \"quoted\" ünïcode";
  Json::Value read;
  ASSERT_TRUE(ReadJson(WriteJson(value), read));
  EXPECT_EQ(read, value);
}

}  // namespace
}  // namespace argus
