#include "api/thumbnail_renders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "image/limits.h"
#include "image/thumbnail.h"

namespace argus::api {
namespace {

using Bytes = ThumbnailRenders::Bytes;

// A render that takes a while and counts how many run, and ran at once.
struct SlowRender {
  std::atomic<int> calls = 0;
  std::atomic<int> running = 0;
  std::atomic<int> most_at_once = 0;

  Result<Bytes> operator()() {
    ++calls;
    const int now = ++running;
    for (int seen = most_at_once; now > seen && !most_at_once.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    --running;
    return Bytes{std::byte{1}, std::byte{2}};
  }
};

// The answer Get gives, waited for.
Result<Bytes> GetAndWait(ThumbnailRenders& renders, const std::string& photo,
                         ThumbnailRenders::Render render) {
  std::promise<Result<Bytes>> answered;
  renders.Get(photo, std::move(render),
              [&answered](const Result<Bytes>& bytes) { answered.set_value(bytes); });
  return answered.get_future().get();
}

// Asks for the thumbnail of each of `photos` at once, then waits for every answer.
std::vector<Result<Bytes>> GetAtOnce(ThumbnailRenders& renders, SlowRender& render,
                                     const std::vector<std::string>& photos) {
  std::vector<std::promise<Result<Bytes>>> answers(photos.size());
  for (std::size_t i = 0; i < photos.size(); ++i) {
    renders.Get(
        photos[i], [&render] { return render(); },
        [&answer = answers[i]](const Result<Bytes>& bytes) { answer.set_value(bytes); });
  }
  std::vector<Result<Bytes>> results;
  results.reserve(answers.size());
  for (auto& answer : answers) results.push_back(answer.get_future().get());
  return results;
}

TEST(ThumbnailRendersTest, ConcurrentRequestsForOnePhotoShareOneRender) {
  ThumbnailRenders renders;
  SlowRender render;
  for (const Result<Bytes>& bytes :
       GetAtOnce(renders, render, {"photo", "photo", "photo", "photo"})) {
    ASSERT_TRUE(bytes) << bytes.error().message;
    EXPECT_EQ(bytes->size(), 2u);
  }
  EXPECT_EQ(render.calls, 1);
}

TEST(ThumbnailRendersTest, RendersOfDifferentPhotosRunOneAtATime) {
  ThumbnailRenders renders;
  SlowRender render;
  for (const Result<Bytes>& bytes : GetAtOnce(renders, render, {"photo-0", "photo-1", "photo-2"})) {
    EXPECT_TRUE(bytes);
  }
  EXPECT_EQ(render.calls, 3);
  EXPECT_EQ(render.most_at_once, 1);
}

TEST(ThumbnailRendersTest, APhotoThatCannotBeShownIsNotDecodedAgain) {
  ThumbnailRenders renders;
  int calls = 0;
  const std::string garbage = "\xFF\xD8\xFF not the rest of a JPEG";
  const auto render = [&]() -> Result<Bytes> {
    ++calls;
    return image::MakeThumbnail(std::as_bytes(std::span(garbage)), 256, image::Limits{});
  };
  const Result<Bytes> first = GetAndWait(renders, "damaged", render);
  ASSERT_FALSE(first);
  const Result<Bytes> second = GetAndWait(renders, "damaged", render);
  ASSERT_FALSE(second);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(second.error().code, first.error().code);
  EXPECT_EQ(second.error().message, first.error().message);
}

TEST(ThumbnailRendersTest, AStoreThatDidNotAnswerIsTriedAgain) {
  ThumbnailRenders renders;
  int calls = 0;
  const auto render = [&]() -> Result<Bytes> {
    ++calls;
    return Fail(ErrorCode::kUnavailable, "the blob store did not answer");
  };
  EXPECT_FALSE(GetAndWait(renders, "photo", render));
  EXPECT_FALSE(GetAndWait(renders, "photo", render));
  EXPECT_EQ(calls, 2);
}

// Requests waiting for their turn held the handler threads every route shares: one account's
// tiny bombs (1 s each) froze others' log-ins for half a minute. Get now returns at once; past
// the bound on waiting photos a request is refused, and a stop answers those still waiting.
TEST(ThumbnailRendersTest, RequestsWaitWithoutHoldingTheCallerAndTheirNumberIsBounded) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<std::promise<Result<Bytes>>> answers(4);
  {
    ThumbnailRenders renders(2);
    const auto blocked = [released]() -> Result<Bytes> {
      released.wait();
      return Bytes{std::byte{7}};
    };
    // One under way, two waiting: each Get returns while the first render is blocked.
    for (int i = 0; i < 3; ++i) {
      renders.Get("photo-" + std::to_string(i), blocked,
                  [&answer = answers[i]](const Result<Bytes>& bytes) { answer.set_value(bytes); });
      if (i == 0) {
        // Under way, no longer waiting.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    renders.Get("photo-3", blocked,
                [&answer = answers[3]](const Result<Bytes>& bytes) { answer.set_value(bytes); });
    auto refused = answers[3].get_future();
    ASSERT_EQ(refused.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    const Result<Bytes> too_many = refused.get();
    ASSERT_FALSE(too_many);
    EXPECT_EQ(too_many.error().code, ErrorCode::kUnavailable);
    release.set_value();
    const Result<Bytes> first = answers[0].get_future().get();
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(*first, Bytes{std::byte{7}});
  }
  // The renders were destroyed with photos made or waiting: every request was answered.
  for (int i = 1; i < 3; ++i) {
    auto answer = answers[i].get_future();
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready) << i;
    const Result<Bytes> bytes = answer.get();
    EXPECT_TRUE(bytes || bytes.error().code == ErrorCode::kUnavailable) << i;
  }
}

}  // namespace
}  // namespace argus::api
