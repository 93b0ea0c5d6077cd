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

// jsoncpp took a byte that is not UTF-8 for the start of a character, swallowing the two
// after it: "caf\xE9.jpg" came out as "caf\u9baapg".
TEST(JsonTest, BytesThatAreNotUtf8AreWrittenAsReplacementCharacters) {
  Json::Value value(Json::objectValue);
  value["file"] = "photos/caf\xE9.jpg";
  value["list"] = Json::Value(Json::arrayValue);
  value["list"].append("ok \xC3");
  value["list"].append("é");
  value["k\xFF"] = 1;
  Json::Value read;
  ASSERT_TRUE(ReadJson(WriteJson(value), read));
  EXPECT_EQ(read["file"].asString(), "photos/caf\uFFFD.jpg");
  EXPECT_EQ(read["list"][0].asString(), "ok \uFFFD");
  EXPECT_EQ(read["list"][1].asString(), "é");
  EXPECT_EQ(read["k\uFFFD"].asInt(), 1);
}

}  // namespace
}  // namespace argus
