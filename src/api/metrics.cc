#include "api/metrics.h"

#include <drogon/drogon.h>
#include <drogon/utils/monitoring/Collector.h>

#include <algorithm>
#include <format>
#include <map>
#include <mutex>

namespace argus::api {
namespace {

using drogon::monitoring::Collector;
using drogon::monitoring::CollectorBase;
using drogon::monitoring::Counter;
using drogon::monitoring::Gauge;
using drogon::monitoring::SamplesGroup;

// Drogon 1.9.0's Histogram leaves its first time bucket unsized (observe() writes out of
// bounds) and Collector<T> cannot pass bucket boundaries, so histograms are this plain
// cumulative Prometheus histogram with a collector of its own.
class CumulativeHistogram : public drogon::monitoring::Metric {
 public:
  CumulativeHistogram(const std::string& name, const std::vector<std::string>& label_names,
                      const std::vector<std::string>& label_values, std::vector<double> boundaries)
      : Metric(name, label_names, label_values),
        boundaries_(std::move(boundaries)),
        counts_(boundaries_.size() + 1, 0) {}

  void observe(double value) {
    std::lock_guard lock(mutex_);
    const auto bucket = std::ranges::lower_bound(boundaries_, value) - boundaries_.begin();
    ++counts_[static_cast<std::size_t>(bucket)];
    sum_ += value;
  }

  std::vector<drogon::monitoring::Sample> collect() const override {
    std::lock_guard lock(mutex_);
    std::vector<drogon::monitoring::Sample> samples;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= boundaries_.size(); ++i) {
      cumulative += counts_[i];
      drogon::monitoring::Sample sample;
      sample.name = name_ + "_bucket";
      sample.value = static_cast<double>(cumulative);
      sample.exLabels.emplace_back(
          "le", i < boundaries_.size() ? std::format("{}", boundaries_[i]) : "+Inf");
      samples.push_back(std::move(sample));
    }
    drogon::monitoring::Sample sum;
    sum.name = name_ + "_sum";
    sum.value = sum_;
    samples.push_back(std::move(sum));
    drogon::monitoring::Sample count;
    count.name = name_ + "_count";
    count.value = static_cast<double>(cumulative);
    samples.push_back(std::move(count));
    return samples;
  }

 private:
  std::vector<double> boundaries_;
  mutable std::mutex mutex_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
};

class HistogramCollector : public CollectorBase {
 public:
  HistogramCollector(std::string name, std::string help, std::vector<std::string> label_names,
                     std::vector<double> boundaries)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        boundaries_(std::move(boundaries)) {}

  CumulativeHistogram& metric(const std::vector<std::string>& label_values) {
    std::lock_guard lock(mutex_);
    auto& histogram = histograms_[label_values];
    if (!histogram) {
      histogram =
          std::make_shared<CumulativeHistogram>(name_, label_names_, label_values, boundaries_);
    }
    return *histogram;
  }
  std::vector<SamplesGroup> collect() const override {
    std::lock_guard lock(mutex_);
    std::vector<SamplesGroup> groups;
    groups.reserve(histograms_.size());
    for (const auto& [labels, histogram] : histograms_) {
      groups.push_back({histogram, histogram->collect()});
    }
    return groups;
  }
  const std::string& name() const override { return name_; }
  const std::string& help() const override { return help_; }
  const std::string_view type() const override { return "histogram"; }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> boundaries_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::shared_ptr<CumulativeHistogram>> histograms_;
};

// Drogon 1.9.0's Gauge calls itself a counter, which misleads rate() and type-aware tools.
class GaugeCollector : public Collector<Gauge> {
 public:
  using Collector<Gauge>::Collector;
  const std::string_view type() const override { return "gauge"; }
};

// Up to the minute a POST / or a long poll may wait (--sync-timeout, ?wait=).
const std::vector<double> kLatencyBuckets{0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                          0.5,   1,     2.5,   5,    10,    30,   60};

}  // namespace

struct Metrics::Collectors {
  std::shared_ptr<Collector<Counter>> requests = std::make_shared<Collector<Counter>>(
      "argus_http_requests_total", "HTTP requests by route, method and status",
      std::vector<std::string>{"route", "method", "status"});
  std::shared_ptr<HistogramCollector> latency = std::make_shared<HistogramCollector>(
      "argus_http_request_duration_seconds", "HTTP request latency by route",
      std::vector<std::string>{"route"}, kLatencyBuckets);
  std::shared_ptr<HistogramCollector> batch_size = std::make_shared<HistogramCollector>(
      "argus_batch_size", "Images per inference batch", std::vector<std::string>{},
      std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128, 256});  // up to --max-batch's limit
  std::shared_ptr<HistogramCollector> inference =
      std::make_shared<HistogramCollector>("argus_inference_seconds", "Inference time per batch",
                                           std::vector<std::string>{}, kLatencyBuckets);
  std::shared_ptr<HistogramCollector> decode =
      std::make_shared<HistogramCollector>("argus_decode_seconds", "Decoding time per batch",
                                           std::vector<std::string>{}, kLatencyBuckets);
  std::shared_ptr<HistogramCollector> queue_wait = std::make_shared<HistogramCollector>(
      "argus_queue_wait_seconds",
      "Time images waited in the queue, each counted at its batch's mean",
      std::vector<std::string>{}, kLatencyBuckets);
  std::shared_ptr<Collector<Counter>> decoded_ahead = std::make_shared<Collector<Counter>>(
      "argus_images_decoded_ahead_total",
      "Images an idle worker decoded while their jobs were being queued",
      std::vector<std::string>{});
  std::shared_ptr<Collector<Counter>> images = std::make_shared<Collector<Counter>>(
      "argus_images_total", "Images finished, by final status", std::vector<std::string>{"status"});
  std::shared_ptr<GaugeCollector> queue = std::make_shared<GaugeCollector>(
      "argus_queue_jobs", "Jobs in the queue by state (ready = depth, in_flight, dead)",
      std::vector<std::string>{"state"});
  std::shared_ptr<GaugeCollector> handler_backlog = std::make_shared<GaugeCollector>(
      "argus_http_handler_backlog",
      "Requests the handler threads have queued and running (in_hand), and the number above "
      "which new ones get 503 busy (limit)",
      std::vector<std::string>{"state"});
  std::shared_ptr<GaugeCollector> workers = std::make_shared<GaugeCollector>(
      "argus_workers", "Worker processes (running) and the scaler's target (desired)",
      std::vector<std::string>{"state"});
  std::shared_ptr<Collector<Counter>> decisions = std::make_shared<Collector<Counter>>(
      "argus_scaler_decisions_total", "Scaling decisions by action",
      std::vector<std::string>{"action"});
  std::shared_ptr<Collector<Counter>> crashes = std::make_shared<Collector<Counter>>(
      "argus_worker_crashes_total", "Worker processes that exited without being asked to",
      std::vector<std::string>{});
  std::shared_ptr<Collector<Counter>> stalls = std::make_shared<Collector<Counter>>(
      "argus_worker_stalls_total",
      "Worker processes killed for giving no heartbeat for the stall timeout (also crashes)",
      std::vector<std::string>{});
  std::mutex totals_mutex;
  Metrics::ScalerTotals seen;
};

Metrics::Metrics() : collectors_(std::make_shared<Collectors>()) {}

void Metrics::ObserveRequest(const std::string& route, const std::string& method, int status,
                             double seconds) {
  collectors_->requests->metric({route, method, std::to_string(status)})->increment();
  collectors_->latency->metric({route}).observe(seconds);
}

void Metrics::ObserveBatch(const worker::BatchEvent& batch) {
  collectors_->batch_size->metric({}).observe(static_cast<double>(batch.size));
  collectors_->inference->metric({}).observe(batch.inference_ms / 1000.0);
  collectors_->decode->metric({}).observe(batch.decode_ms / 1000.0);
  // Once per image: a mean per batch weighed a batch of 16 that waited out a backlog as one
  // lone image that did not wait.
  for (std::uint64_t image = 0; image < batch.size; ++image) {
    collectors_->queue_wait->metric({}).observe(batch.queue_wait_ms / 1000.0);
  }
  // Created with the first batch, so that the counter is exported at 0 before any image
  // was decoded ahead.
  collectors_->decoded_ahead->metric({})->increment(static_cast<double>(batch.decoded_ahead));
}

void Metrics::CountWorkFromNow() {
  collectors_->images->metric({"done"});
  collectors_->images->metric({"failed"});
  for (const auto& histogram : {collectors_->batch_size, collectors_->inference,
                                collectors_->decode, collectors_->queue_wait}) {
    histogram->metric({});
  }
  collectors_->decoded_ahead->metric({});
}

void Metrics::CountImage(const worker::ImageEvent& image) {
  if (image.settled && (image.status == "done" || image.status == "failed")) {
    collectors_->images->metric({image.status})->increment();
  }
}

void Metrics::SetQueue(const queue::QueueStats& stats) {
  collectors_->queue->metric({"ready"})->set(static_cast<double>(stats.ready));
  collectors_->queue->metric({"in_flight"})->set(static_cast<double>(stats.in_flight));
  collectors_->queue->metric({"dead"})->set(static_cast<double>(stats.dead));
}

void Metrics::SetHandlerBacklog(std::size_t in_hand, std::size_t limit) {
  collectors_->handler_backlog->metric({"in_hand"})->set(static_cast<double>(in_hand));
  collectors_->handler_backlog->metric({"limit"})->set(static_cast<double>(limit));
}

void Metrics::SetWorkers(int running, int desired) {
  collectors_->workers->metric({"running"})->set(running);
  collectors_->workers->metric({"desired"})->set(desired);
}

void Metrics::SetScalerTotals(const ScalerTotals& totals) {
  std::lock_guard lock(collectors_->totals_mutex);
  ScalerTotals& seen = collectors_->seen;
  auto advance = [](const std::shared_ptr<Counter>& counter, std::uint64_t& seen_total,
                    std::uint64_t total) {
    if (total > seen_total) counter->increment(static_cast<double>(total - seen_total));
    seen_total = total;
  };
  advance(collectors_->decisions->metric({"scale_out"}), seen.scale_outs, totals.scale_outs);
  advance(collectors_->decisions->metric({"scale_in"}), seen.scale_ins, totals.scale_ins);
  advance(collectors_->decisions->metric({"scale_out_held"}), seen.scale_outs_held,
          totals.scale_outs_held);
  advance(collectors_->decisions->metric({"restart"}), seen.restarts, totals.restarts);
  advance(collectors_->crashes->metric({}), seen.crashes, totals.crashes);
  advance(collectors_->stalls->metric({}), seen.stalls, totals.stalls);
}

std::string Metrics::Render() const {
  const std::shared_ptr<CollectorBase> all[] = {
      collectors_->requests,        collectors_->latency, collectors_->batch_size,
      collectors_->inference,       collectors_->decode,  collectors_->queue_wait,
      collectors_->decoded_ahead,   collectors_->images,  collectors_->queue,
      collectors_->handler_backlog, collectors_->workers, collectors_->decisions,
      collectors_->crashes,         collectors_->stalls};
  std::string text;
  for (const auto& collector : all) {
    // A family with no series yet is left out: the web tier alone has no workers or scaler.
    const std::vector<SamplesGroup> groups = collector->collect();
    if (groups.empty()) continue;
    text += std::format("# HELP {} {}\n# TYPE {} {}\n", collector->name(), collector->help(),
                        collector->name(), collector->type());
    for (const SamplesGroup& group : groups) {
      for (const drogon::monitoring::Sample& sample : group.samples) {
        std::string labels;
        for (const auto& [name, value] : group.metric->labels()) {
          labels += std::format("{}{}=\"{}\"", labels.empty() ? "" : ",", name, value);
        }
        for (const auto& [name, value] : sample.exLabels) {
          labels += std::format("{}{}=\"{}\"", labels.empty() ? "" : ",", name, value);
        }
        const std::string name = sample.name.empty() ? group.metric->name() : sample.name;
        text += labels.empty() ? std::format("{} {}\n", name, sample.value)
                               : std::format("{}{{{}}} {}\n", name, labels, sample.value);
      }
    }
  }
  return text;
}

}  // namespace argus::api
