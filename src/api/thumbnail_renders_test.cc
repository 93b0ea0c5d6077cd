#include "api/thumbnail_renders.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
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
  EXPECT_EQ(renders.Get(photo, "owner", "request", std::move(render),
                        [&answered](const Result<Bytes>& bytes) { answered.set_value(bytes); }),
            ThumbnailRenders::Taken::kYes);
  return answered.get_future().get();
}

// Asks for the thumbnail of each of `photos` at once, then waits for every answer.
std::vector<Result<Bytes>> GetAtOnce(ThumbnailRenders& renders, SlowRender& render,
                                     const std::vector<std::string>& photos) {
  std::vector<std::promise<Result<Bytes>>> answers(photos.size());
  for (std::size_t i = 0; i < photos.size(); ++i) {
    EXPECT_EQ(renders.Get(
                  photos[i], "owner", "request", [&render] { return render(); },
                  [&answer = answers[i]](const Result<Bytes>& bytes) { answer.set_value(bytes); }),
              ThumbnailRenders::Taken::kYes);
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
// the bounds on waiting photos a request is refused, and Stop answers those still waiting.
TEST(ThumbnailRendersTest, RequestsWaitWithoutHoldingTheCallerAndTheirNumberIsBounded) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  const auto blocked = [released]() -> Result<Bytes> {
    released.wait();
    return Bytes{std::byte{7}};
  };
  std::vector<std::promise<Result<Bytes>>> answers(3);
  const auto answer_to = [&answers](int i) {
    return [&answer = answers[i]](const Result<Bytes>& bytes) { answer.set_value(bytes); };
  };
  ThumbnailRenders renders({.waiting = 2, .waiting_per_owner = 2});
  ASSERT_EQ(renders.Get("photo-0", "alice", "r0", blocked, answer_to(0)),
            ThumbnailRenders::Taken::kYes);
  // Under way, no longer waiting: two more may wait, each Get returning while it is blocked.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 1; i < 3; ++i) {
    ASSERT_EQ(renders.Get("photo-" + std::to_string(i), "alice", "r", blocked, answer_to(i)),
              ThumbnailRenders::Taken::kYes);
  }
  EXPECT_EQ(renders.Get("photo-3", "bob", "r3", blocked,
                        [](const Result<Bytes>&) {
                          ADD_FAILURE() << "a refused request is not answered by the renders";
                        }),
            ThumbnailRenders::Taken::kBusy);
  release.set_value();
  const Result<Bytes> first = answers[0].get_future().get();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(*first, Bytes{std::byte{7}});
  renders.Stop();
  // Every request taken was answered: made, or told the server is stopping.
  for (int i = 1; i < 3; ++i) {
    auto answer = answers[i].get_future();
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready) << i;
    const Result<Bytes> bytes = answer.get();
    EXPECT_TRUE(bytes || bytes.error().message == ThumbnailRenders::kStoppingMessage) << i;
  }
  EXPECT_EQ(renders.Get("photo-4", "bob", "r4", blocked, [](const Result<Bytes>&) {}),
            ThumbnailRenders::Taken::kStopping);
}

// Accounts take turns: another account's photo is made after the one under way, not after
// every photo the first account has waiting; and an account may have only so many waiting.
TEST(ThumbnailRendersTest, AccountsTakeTurnsAndEachHasAFewPhotosWaiting) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::mutex mutex;
  std::vector<std::string> order;
  const auto render_of = [&](const std::string& id) {
    return [&, id, released]() -> Result<Bytes> {
      released.wait();
      std::lock_guard lock(mutex);
      order.push_back(id);
      return Bytes{std::byte{1}};
    };
  };
  std::atomic<int> answered = 0;
  const auto count = [&answered](const Result<Bytes>&) { ++answered; };
  ThumbnailRenders renders({.waiting = 64, .waiting_per_owner = 3});
  ASSERT_EQ(renders.Get("bomb-0", "mallory", "r", render_of("bomb-0"), count),
            ThumbnailRenders::Taken::kYes);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // bomb-0 under way
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "bomb-" + std::to_string(i);
    ASSERT_EQ(renders.Get(id, "mallory", "r", render_of(id), count), ThumbnailRenders::Taken::kYes);
  }
  EXPECT_EQ(renders.Get("bomb-4", "mallory", "r", render_of("bomb-4"), count),
            ThumbnailRenders::Taken::kBusy);
  ASSERT_EQ(renders.Get("cat", "alice", "r", render_of("cat"), count),
            ThumbnailRenders::Taken::kYes);
  release.set_value();
  while (answered < 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<std::string>{"bomb-0", "bomb-1", "cat", "bomb-2", "bomb-3"}));
}

}  // namespace
}  // namespace argus::api
