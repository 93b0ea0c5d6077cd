#include "api/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace argus::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, GaugesAreTypedGaugesAndFamiliesWithoutSeriesAreLeftOut) {
  Metrics metrics;
  metrics.SetQueue({.ready = 7, .in_flight = 2, .dead = 1});
  metrics.CountImage({.image_id = "a", .status = "done", .top_label = "tench", .settled = true});
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE argus_queue_jobs gauge\n"));
  EXPECT_THAT(text, HasSubstr("argus_queue_jobs{state=\"ready\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE argus_images_total counter\n"));
  EXPECT_THAT(text, Not(HasSubstr("argus_workers"))) << "no scaler in this process";
  EXPECT_THAT(text, Not(HasSubstr("argus_scaler_decisions_total")));

  metrics.SetWorkers(1, 2);
  EXPECT_THAT(metrics.Render(), HasSubstr("# TYPE argus_workers gauge\n"));
}

// A job delivered again announces its image's status again, unsettled.
TEST(MetricsTest, AnImageCountsOnceHoweverOftenItsJobWasDelivered) {
  Metrics metrics;
  metrics.CountImage({.image_id = "a", .status = "done", .top_label = "tench", .settled = true});
  metrics.CountImage({.image_id = "a", .status = "done"});
  metrics.CountImage({.image_id = "b", .status = "processing"});
  metrics.CountImage({.image_id = "c", .status = "failed", .settled = true});
  metrics.CountImage({.image_id = "c", .status = "failed"});
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("argus_images_total{status=\"done\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("argus_images_total{status=\"failed\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("processing")));
}

TEST(MetricsTest, ImageCountsAndBatchHistogramsStartAtZeroInTheProcessThatCountsThem) {
  Metrics metrics;
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("argus_images_total")));
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("argus_batch_size")));
  metrics.CountWorkFromNow();
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("argus_images_total{status=\"done\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("argus_images_total{status=\"failed\"} 0\n"));
  for (const char* family : {"argus_batch_size", "argus_inference_seconds", "argus_decode_seconds",
                             "argus_queue_wait_seconds"}) {
    EXPECT_THAT(text, HasSubstr(std::string(family) + "_count 0\n"));
  }
  EXPECT_THAT(text, HasSubstr("argus_images_decoded_ahead_total 0\n"));
}

// A batch of 16 that waited 125 ms and a lone image that did not wait: the mean wait of the
// 17 images is 118 ms, not the 62.5 ms of the two batches.
TEST(MetricsTest, QueueWaitIsCountedPerImage) {
  Metrics metrics;
  metrics.ObserveBatch({.size = 16, .queue_wait_ms = 125});
  metrics.ObserveBatch({.size = 1, .queue_wait_ms = 0});
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("argus_queue_wait_seconds_count 17\n"));
  EXPECT_THAT(text, HasSubstr("argus_queue_wait_seconds_sum 2\n"));
  EXPECT_THAT(text, HasSubstr("argus_batch_size_count 2\n"));
}

// --max-batch goes up to 256: a batch of 200 was counted only in +Inf.
TEST(MetricsTest, BatchSizeBucketsReachTheLargestBatch) {
  Metrics metrics;
  metrics.ObserveBatch({.size = 200, .queue_wait_ms = 1});
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("argus_batch_size_bucket{le=\"128\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("argus_batch_size_bucket{le=\"256\"} 1\n"));
}

TEST(MetricsTest, TheHandlerBacklogIsAGaugeOfRequestsInHandAndItsLimit) {
  Metrics metrics;
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("argus_http_handler_backlog")));
  metrics.SetHandlerBacklog(3, 1024);
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE argus_http_handler_backlog gauge\n"));
  EXPECT_THAT(text, HasSubstr("argus_http_handler_backlog{state=\"in_hand\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("argus_http_handler_backlog{state=\"limit\"} 1024\n"));
}

}  // namespace
}  // namespace argus::api
