#pragma once

#include <drogon/utils/monitoring/Counter.h>
#include <drogon/utils/monitoring/Gauge.h>

#include <memory>
#include <string>
#include <vector>

#include "queue/queue.h"
#include "worker/job.h"

namespace argus::api {

// The service's Prometheus metrics, kept in Drogon's monitoring collectors and served at
// /metrics. Debian's Drogon 1.9.0 crashes at start-up now and then when its PromExporter
// plugin registers its route while the server starts (seen in our end-to-end tests), so
// the exposition text is rendered here and served by an ordinary route.
class Metrics {
 public:
  Metrics();

  void ObserveRequest(const std::string& route, const std::string& method, int status,
                      double seconds);
  void ObserveBatch(const worker::BatchEvent& batch);
  // Counts an image done or failed. A job delivered again (a crash's redelivery, a second job
  // queued by the recovery of images whose mark lagged) announces its status again,
  // unsettled: only the delivery that recorded the status counts.
  void CountImage(const worker::ImageEvent& image);
  // Exports the image counts and the batch histograms at 0 before the first batch, for the
  // process that counts them: a rate over a series that starts at 1 misses the first
  // failure, and a dashboard showed "no data" after each start until then.
  void CountWorkFromNow();
  void SetQueue(const queue::QueueStats& stats);
  void SetWorkers(int running, int desired);
  // Requests the handler threads have in hand, and how many they take before 503 "busy".
  void SetHandlerBacklog(std::size_t in_hand, std::size_t limit);
  // The scaler's running totals; counters advance by the difference to the last call.
  struct ScalerTotals {
    std::uint64_t scale_outs = 0;
    std::uint64_t scale_ins = 0;
    std::uint64_t scale_outs_held = 0;
    std::uint64_t restarts = 0;
    std::uint64_t crashes = 0;
    std::uint64_t stalls = 0;
  };
  void SetScalerTotals(const ScalerTotals& totals);

  // The Prometheus text exposition format of every metric.
  std::string Render() const;

 private:
  struct Collectors;
  std::shared_ptr<Collectors> collectors_;
};

}  // namespace argus::api
