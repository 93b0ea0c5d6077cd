#include "worker/job.h"

#include <gtest/gtest.h>
#include <json/json.h>

#include <string>
#include <vector>

#include "common/json_test.h"

namespace argus::worker {
namespace {

TEST(ImageEventsTest, TravelInMessagesOfAtMostTheLimitInOrder) {
  std::vector<ImageEvent> events;
  events.reserve(kImageEventsPerMessage + 1);
  for (std::size_t i = 0; i < kImageEventsPerMessage + 1; ++i) {
    events.push_back({"image-" + std::to_string(i), "done", i == 0 ? "tabby" : ""});
  }
  const std::vector<std::string> messages = EncodeImageEvents(events);
  ASSERT_EQ(messages.size(), 2u);
  std::vector<Json::Value> decoded;
  for (const std::string& message : messages) {
    const Json::Value value = ParseJson(message);
    EXPECT_EQ(value["kind"].asString(), "images");
    for (const Json::Value& event : value["events"]) decoded.push_back(event);
  }
  EXPECT_EQ(ParseJson(messages[0])["events"].size(), kImageEventsPerMessage);
  ASSERT_EQ(decoded.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(decoded[i]["id"].asString(), events[i].image_id);
    EXPECT_EQ(decoded[i]["status"].asString(), "done");
  }
  EXPECT_EQ(decoded[0]["top_label"].asString(), "tabby");
  EXPECT_FALSE(decoded[1].isMember("top_label")) << decoded[1];
}

TEST(ImageEventsTest, NoEventsMakeNoMessage) { EXPECT_TRUE(EncodeImageEvents({}).empty()); }

}  // namespace
}  // namespace argus::worker
