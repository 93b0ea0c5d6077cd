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

// Asks for the thumbnail of each of `photos` at once, one thread each.
std::vector<Result<Bytes>> GetAtOnce(ThumbnailRenders& renders, SlowRender& render,
                                     const std::vector<std::string>& photos) {
  std::vector<std::future<Result<Bytes>>> answers;
  answers.reserve(photos.size());
  for (const std::string& photo : photos) {
    answers.push_back(std::async(std::launch::async, [&renders, &render, &photo] {
      return renders.Get(photo, [&render] { return render(); });
    }));
  }
  std::vector<Result<Bytes>> results;
  results.reserve(answers.size());
  for (auto& answer : answers) results.push_back(answer.get());
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
  // Requests that came after the render ended could start one of their own; those that
  // came during it could not.
  EXPECT_LT(render.calls, 4);
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
  const Result<Bytes> first = renders.Get("damaged", render);
  ASSERT_FALSE(first);
  const Result<Bytes> second = renders.Get("damaged", render);
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
  EXPECT_FALSE(renders.Get("photo", render));
  EXPECT_FALSE(renders.Get("photo", render));
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace argus::api
