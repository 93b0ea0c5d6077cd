#pragma once

// Test-only helpers shared by the queue's test files.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "queue/queue.h"

namespace argus::queue {

// Receive, failing the test on an error (and then returning nothing).
inline std::vector<Message> MustReceive(Queue& queue, std::size_t max,
                                        std::chrono::milliseconds wait = {}) {
  auto received = queue.Receive(max, wait);
  EXPECT_TRUE(received) << received.error().message;
  return received ? std::move(*received) : std::vector<Message>{};
}

using Counted = std::vector<std::uint64_t>;

// {ready, in_flight, dead}
inline Counted Counts(Queue& queue) {
  auto stats = queue.Stats();
  EXPECT_TRUE(stats) << stats.error().message;
  if (!stats) return {};
  return {stats->ready, stats->in_flight, stats->dead};
}

}  // namespace argus::queue
