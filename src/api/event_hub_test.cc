#include "api/event_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

namespace argus::api {
namespace {

using namespace std::chrono_literals;
using Clock = EventHub::Clock;

// A wake-up that can be waited for, counting how often it ran.
struct Woken {
  std::shared_ptr<std::atomic<int>> count = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::promise<Clock::time_point>> first =
      std::make_shared<std::promise<Clock::time_point>>();
  std::shared_future<Clock::time_point> when = first->get_future().share();

  // The event a wait for an image was woken by; nullopt for the re-check or the deadline.
  std::shared_ptr<std::optional<StatusEvent>> event =
      std::make_shared<std::optional<StatusEvent>>();

  EventHub::Wake Callback() const {
    return [count = count, first = first] {
      if (count->fetch_add(1) == 0) first->set_value(Clock::now());
    };
  }
  EventHub::ImageWake ImageCallback() const {
    return [count = count, first = first, event = event](const StatusEvent* woken_by) {
      if (woken_by != nullptr) *event = *woken_by;
      if (count->fetch_add(1) == 0) first->set_value(Clock::now());
    };
  }
  bool WithinSeconds(double seconds) const {
    return when.wait_for(std::chrono::duration<double>(seconds)) == std::future_status::ready;
  }
};

TEST(EventHubTest, AnEventWakesTheWaitersOfItsImageOnce) {
  EventHub hub;
  Woken first, second, other;
  hub.WaitForImage("a", Clock::now() + 60s, first.ImageCallback());
  hub.WaitForImage("a", Clock::now() + 60s, second.ImageCallback());
  hub.WaitForImage("b", Clock::now() + 60s, other.ImageCallback());
  hub.OnStatus("a", "done", "tench");
  hub.OnStatus("a", "done");
  EXPECT_EQ(*first.count, 1);
  EXPECT_EQ(*second.count, 1);
  EXPECT_EQ(*other.count, 0);
  EXPECT_EQ(hub.waiting_for_images(), 1u);
  ASSERT_TRUE(first.event->has_value());
  const StatusEvent woken_by = first.event->value_or(StatusEvent{});
  EXPECT_EQ(woken_by.image_id, "a");
  EXPECT_EQ(woken_by.status, "done");
  EXPECT_EQ(woken_by.top_label, "tench");
}

TEST(EventHubTest, AWaiterIsWokenAtItsDeadlineWhenThatComesBeforeTheNextRecheck) {
  EventHub hub;
  Woken later, sooner;
  const auto start = Clock::now();
  hub.WaitForImage("a", start + 60s, later.ImageCallback());
  hub.WaitForImage("b", start + 100ms, sooner.ImageCallback());
  // The periodic re-check comes a second after the hub started.
  ASSERT_TRUE(sooner.WithinSeconds(0.8)) << "woken only by the re-check";
  EXPECT_GE(sooner.when.get() - start, 100ms);
  EXPECT_FALSE(sooner.event->has_value()) << "woken by an event";
  EXPECT_EQ(*later.count, 0);
}

TEST(EventHubTest, EveryWaiterIsWokenByThePeriodicRecheck) {
  EventHub hub;
  Woken image, events;
  hub.WaitForImage("a", Clock::now() + 60s, image.ImageCallback());
  hub.WaitForEvents(hub.last_sequence(), Clock::now() + 60s, events.Callback());
  EXPECT_TRUE(image.WithinSeconds(5));
  EXPECT_FALSE(image.event->has_value());
  EXPECT_TRUE(events.WithinSeconds(5));
  EXPECT_EQ(hub.waiting_for_images(), 0u);
}

TEST(EventHubTest, EventWaitersAreWokenByTheNextEventOrAtOnceWhenOneIsNewer) {
  EventHub hub;
  Woken next;
  hub.WaitForEvents(hub.last_sequence(), Clock::now() + 60s, next.Callback());
  EXPECT_EQ(*next.count, 0);
  hub.OnStatus("a", "processing");
  EXPECT_EQ(*next.count, 1);

  Woken behind;
  hub.WaitForEvents(0, Clock::now() + 60s, behind.Callback());
  EXPECT_EQ(*behind.count, 1);
  const auto events = hub.EventsAfter(0);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].image_id, "a");
  EXPECT_EQ(events[0].status, "processing");
  EXPECT_EQ(events[0].sequence, hub.last_sequence());
}

// A hub's first number belongs to no event, so a client resuming from before it (an id of
// an earlier process, or 0) has nothing to read yet and must wait for the next event.
TEST(EventHubTest, AWaiterFromBeforeTheFirstEventWaitsForIt) {
  EventHub hub;
  Woken waiting;
  hub.WaitForEvents(0, Clock::now() + 60s, waiting.Callback());
  EXPECT_EQ(*waiting.count, 0);
  EXPECT_TRUE(hub.EventsAfter(0).empty());
  hub.OnStatus("a", "processing");
  EXPECT_EQ(*waiting.count, 1);
}

TEST(EventHubTest, LatestEventForAnImageLooksOnlyAfterTheGivenSequence) {
  EventHub hub;
  hub.OnStatus("a", "processing");
  const std::uint64_t seen = hub.last_sequence();
  EXPECT_FALSE(hub.LatestEventFor("a", seen).has_value());
  hub.OnStatus("b", "done", "goldfish");
  hub.OnStatus("a", "done", "tench");
  hub.OnStatus("c", "processing");
  const std::optional<StatusEvent> found = hub.LatestEventFor("a", seen);
  ASSERT_TRUE(found.has_value());
  const StatusEvent latest = found.value_or(StatusEvent{});
  EXPECT_EQ(latest.status, "done");
  EXPECT_EQ(latest.top_label, "tench");
  EXPECT_GT(latest.sequence, seen);
  EXPECT_FALSE(hub.LatestEventFor("a", latest.sequence).has_value());
  EXPECT_FALSE(hub.LatestEventFor("d", 0).has_value());
}

// A client that reconnects to a restarted server with the last number it saw gets the new
// server's events instead of waiting for the numbers to catch up.
TEST(EventHubTest, ALaterHubNumbersItsEventsAfterAnEarlierOne) {
  std::uint64_t earlier_last = 0;
  {
    EventHub earlier;
    earlier.OnStatus("a", "processing");
    earlier.OnStatus("a", "done");
    earlier_last = earlier.last_sequence();
  }
  std::this_thread::sleep_for(1ms);
  EventHub later;
  later.OnStatus("b", "processing");
  const auto events = later.EventsAfter(earlier_last);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].image_id, "b");
}

// Every replica hears the same events: a client that saw some through one replica and
// reconnects to another misses none of the later ones there.
TEST(EventHubTest, AClientMovingToAnotherReplicaMissesNoLaterEvent) {
  EventHub first(1), second(2);
  for (const char* id : {"a", "b"}) {
    first.OnStatus(id, "done");
    second.OnStatus(id, "done");
  }
  const std::uint64_t seen = first.last_sequence();
  EXPECT_EQ(seen % 1000, 1U) << "numbers carry the replica's tag";
  second.OnStatus("c", "processing");  // heard here a moment before the first replica
  first.OnStatus("c", "processing");

  const std::uint64_t resume = second.ResumeAfter(seen);
  EXPECT_LT(resume, seen) << "the second before is sent again";
  const auto events = second.EventsAfter(resume);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().image_id, "c");
  EXPECT_EQ(second.ResumeAfter(events.back().sequence), events.back().sequence)
      << "its own numbers resume exactly";
  EXPECT_EQ(second.ResumeAfter(0), 0U) << "from the start of the window";
}

TEST(EventHubTest, EventsAfterGivesTheOldestUpToTheLimit) {
  EventHub hub;
  const std::uint64_t start = hub.last_sequence();
  for (const char* id : {"a", "b", "c", "d"}) hub.OnStatus(id, "done");
  const auto first_two = hub.EventsAfter(start, 2);
  ASSERT_EQ(first_two.size(), 2u);
  EXPECT_EQ(first_two[0].image_id, "a");
  EXPECT_EQ(first_two[1].image_id, "b");
  const auto rest = hub.EventsAfter(first_two[1].sequence, 10);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].image_id, "c");
}

TEST(EventHubTest, AResumePointIsDroppedOnceAnEventAfterItLeavesTheWindow) {
  EventHub hub;
  const std::uint64_t start = hub.last_sequence();
  hub.OnStatus("first", "done");
  const std::uint64_t first = hub.last_sequence();
  for (int i = 1; i < 10'000; ++i) hub.OnStatus("image-" + std::to_string(i), "done");
  EXPECT_FALSE(hub.Dropped(start)) << "the window holds 10,000";
  hub.OnStatus("one-more", "done");
  EXPECT_TRUE(hub.Dropped(start)) << "the first event left it";
  EXPECT_FALSE(hub.Dropped(first)) << "a client that had the first one missed nothing";
}

TEST(EventHubTest, ClosingWakesEveryEventWaiterAtOnceAndLaterOnesOnArrival) {
  EventHub hub;
  Woken waiting, later;
  hub.WaitForEvents(hub.last_sequence(), Clock::now() + 60s, waiting.Callback());
  EXPECT_EQ(*waiting.count, 0);
  hub.Close();
  EXPECT_EQ(*waiting.count, 1);
  hub.WaitForEvents(hub.last_sequence(), Clock::now() + 60s, later.Callback());
  EXPECT_EQ(*later.count, 1);
}

// The periodic re-check takes a client's wait out until its handler waits again; the client
// is still counted as waiting, for the drain before shutdown.
TEST(EventHubTest, AWaitingClientCountsFromItsRequestToItsAnswer) {
  EventHub hub;
  Woken woken;
  auto waiting = hub.ClientStartsWaiting();
  {
    auto other = hub.ClientStartsWaiting();
    EXPECT_EQ(hub.clients_waiting_for_images(), 2u);
  }
  EXPECT_EQ(hub.clients_waiting_for_images(), 1u) << "a client gone is not waiting";
  hub.WaitForImage("a", Clock::now() + 60s, woken.ImageCallback());
  ASSERT_TRUE(woken.WithinSeconds(5)) << "the periodic re-check";
  EXPECT_EQ(hub.waiting_for_images(), 0u);
  EXPECT_EQ(hub.clients_waiting_for_images(), 1u) << "taken out by the re-check, still waiting";
  waiting->Answered();
  EXPECT_EQ(hub.clients_waiting_for_images(), 0u);
  waiting->Answered();
  waiting.reset();
  EXPECT_EQ(hub.clients_waiting_for_images(), 0u) << "answered once, counted off once";
}

TEST(EventHubTest, ClientsThatHungUpAreNotCountedAsStillWaiting) {
  EventHub hub;
  auto gone = hub.ClientStartsWaiting("gone");
  auto here = hub.ClientStartsWaiting("here");
  auto unknown = hub.ClientStartsWaiting();
  const auto connected = [](const std::string& peer) { return peer == "here"; };
  EXPECT_EQ(hub.clients_waiting_for_images(), 3u);
  EXPECT_EQ(hub.ClientsStillWaiting(connected), 2u) << "the one here and the one not known";
  here->Answered();
  unknown.reset();
  EXPECT_EQ(hub.ClientsStillWaiting(connected), 0u);
  EXPECT_EQ(hub.clients_waiting_for_images(), 1u) << "the one gone is still counted";
}

TEST(EventHubTest, ClosingWakesEveryImageWaiterAtOnceAndLaterOnesOnArrival) {
  EventHub hub;
  Woken waiting, later;
  hub.WaitForImage("a", Clock::now() + 60s, waiting.ImageCallback());
  EXPECT_FALSE(hub.closed());
  hub.Close();
  EXPECT_TRUE(hub.closed());
  EXPECT_EQ(*waiting.count, 1);
  EXPECT_FALSE(waiting.event->has_value()) << "woken as at its deadline";
  EXPECT_EQ(hub.waiting_for_images(), 0u);
  hub.WaitForImage("b", Clock::now() + 60s, later.ImageCallback());
  EXPECT_EQ(*later.count, 1);
  EXPECT_EQ(hub.waiting_for_images(), 0u);
}

}  // namespace
}  // namespace argus::api
