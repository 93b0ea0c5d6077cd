#include "worker/job.h"

#include <gtest/gtest.h>
#include <json/json.h>

#include <string>
#include <variant>
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

TEST(WorkerEventTest, EachKindReadsBackAsItWasSent) {
  const std::vector<ImageEvent> sent{
      {.image_id = "a", .status = "processing"},
      {.image_id = "b", .status = "done", .top_label = "tabby", .settled = true},
      {.image_id = "c", .status = "failed", .settled = true},
      {.image_id = "d", .status = "done"},
      {.image_id = "e", .status = "deleted", .owner = "account-7"}};
  const auto messages = EncodeImageEvents(sent);
  ASSERT_EQ(messages.size(), 1u);
  auto images = DecodeWorkerEvent(messages[0]);
  ASSERT_TRUE(images) << images.error().message;
  const auto* received = std::get_if<std::vector<ImageEvent>>(&*images);
  ASSERT_NE(received, nullptr);
  ASSERT_EQ(received->size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ((*received)[i].image_id, sent[i].image_id);
    EXPECT_EQ((*received)[i].status, sent[i].status);
    EXPECT_EQ((*received)[i].top_label, sent[i].top_label);
    EXPECT_EQ((*received)[i].settled, sent[i].settled);
    EXPECT_EQ((*received)[i].owner, sent[i].owner);
  }

  auto batch = DecodeWorkerEvent(EncodeBatchEvent({.size = 16,
                                                   .inference_ms = 41.5,
                                                   .decode_ms = 12.25,
                                                   .queue_wait_ms = 3.0,
                                                   .decoded_ahead = 1}));
  ASSERT_TRUE(batch) << batch.error().message;
  const auto* facts = std::get_if<BatchEvent>(&*batch);
  ASSERT_NE(facts, nullptr);
  EXPECT_EQ(facts->size, 16u);
  EXPECT_DOUBLE_EQ(facts->inference_ms, 41.5);
  EXPECT_DOUBLE_EQ(facts->decode_ms, 12.25);
  EXPECT_DOUBLE_EQ(facts->queue_wait_ms, 3.0);
  EXPECT_EQ(facts->decoded_ahead, 1u);
}

TEST(WorkerEventTest, AnythingElseIsRefused) {
  for (
      const char* message : {
          "",
          "not json",
          "[]",
          R"({"kind":"images"})",
          R"({"kind":"images","events":[1]})",
          R"({"kind":"images","events":[{"id":"a"}]})",
          R"({"kind":"images","events":[{"id":"a","status":"done","top_label":7}]})",
          R"({"kind":"images","events":[{"id":"a","status":"done","settled":"yes"}]})",
          R"({"kind":"batch","size":-1,"inference_ms":1,"decode_ms":1,"queue_wait_ms":1,"decoded_ahead":0})",
          // The format before images were decoded ahead.
          R"({"kind":"batch","size":2,"inference_ms":1,"decode_ms":1,"queue_wait_ms":1})",
          R"({"kind":"batch","size":2})",
          // The format before image events travelled several to a message.
          R"({"kind":"image","id":"a","status":"done"})",
      }) {
    auto event = DecodeWorkerEvent(message);
    ASSERT_FALSE(event) << message;
    EXPECT_EQ(event.error().code, ErrorCode::kInvalidArgument) << message;
  }
}

}  // namespace
}  // namespace argus::worker
