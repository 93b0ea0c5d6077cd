#include "worker/worker.h"

#include <json/json.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/clock.h"
#include "common/log.h"
#include "worker/job.h"

namespace argus::worker {
namespace {

using Clock = std::chrono::steady_clock;

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Errors that another attempt cannot fix: the bytes themselves are bad.
bool IsPermanent(const Error& error) {
  return error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kUnsupportedMedia ||
         error.code == ErrorCode::kTooLarge || error.code == ErrorCode::kInvalidArgument;
}

void LogError(std::string_view what, const Error& error) {
  LogLine("error", "worker", std::string(what) + ": " + error.message);
}

}  // namespace

std::string InputKey(std::string_view image_id) { return "inputs/" + std::string(image_id); }
std::string OutputKey(std::string_view image_id) {
  return "outputs/" + std::string(image_id) + ".json";
}
std::string ThumbnailKey(std::string_view image_id) {
  return "thumbnails/" + std::string(image_id) + ".jpg";
}

struct Worker::Item {
  queue::Message message;
  Job job;
  std::vector<std::byte> bytes;
  Result<void> decoded;
};

Worker::Worker(const engine::Classifier& classifier, queue::Queue& queue, catalog::Catalog& catalog,
               blob::BlobStore& blobs, events::EventBus& events, WorkerOptions options)
    : classifier_(classifier),
      queue_(queue),
      catalog_(catalog),
      blobs_(blobs),
      events_(events),
      options_(options),
      keeper_(queue, options.visibility_timeout / 3) {}

void Worker::Publish(const std::string& image_id, catalog::ImageStatus status) {
  if (auto published =
          events_.Publish(EncodeImageEvent({image_id, std::string(catalog::StatusName(status))}));
      !published) {
    LogError("cannot publish event", published.error());
  }
}

void Worker::FailPermanently(Item& item, const std::string& reason) {
  if (auto recorded = catalog_.RecordFailure(item.job.image_id, reason, true, NowMs()); !recorded) {
    LogError("cannot record failure of " + item.job.image_id, recorded.error());
    return;  // not acknowledged: it comes back and is tried again
  }
  if (auto acked = queue_.Ack(item.message); !acked) LogError("cannot ack", acked.error());
  Publish(item.job.image_id, catalog::ImageStatus::kFailed);
}

void Worker::Retry(Item& item, const std::string& reason) {
  if (auto recorded = catalog_.RecordFailure(item.job.image_id, reason, false, NowMs());
      !recorded) {
    LogError("cannot record failure of " + item.job.image_id, recorded.error());
  }
  if (auto released = queue_.Release(item.message, options_.retry_delay); !released) {
    LogError("cannot release", released.error());
  }
}

Result<std::size_t> Worker::RunOnce(std::chrono::milliseconds wait) {
  auto received = queue_.Receive(options_.max_batch, wait);
  if (!received) return std::unexpected(received.error());
  if (received->empty()) return 0;
  const auto first_arrival = Clock::now();
  while (received->size() < options_.max_batch) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        options_.max_batch_delay - (Clock::now() - first_arrival));
    if (left <= std::chrono::milliseconds::zero()) break;
    auto more = queue_.Receive(options_.max_batch - received->size(), left);
    if (!more || more->empty()) break;
    std::ranges::move(*more, std::back_inserter(*received));
  }
  const std::size_t taken = received->size();
  const VisibilityKeeper::Holding holding = keeper_.Keep(*received);

  std::vector<Item> candidates;
  const std::int64_t now = NowMs();
  for (queue::Message& message : *received) {
    Item item{.message = std::move(message)};
    auto job = DecodeJob(item.message.body);
    if (!job) {
      if (auto moved = queue_.MoveToDeadLetter(item.message, job.error().message); !moved) {
        LogError("cannot dead-letter a malformed job", moved.error());
      }
      continue;
    }
    item.job = std::move(*job);
    if (item.message.delivery_count > options_.max_attempts) {
      auto record = catalog_.GetImage(item.job.image_id);
      const std::string reason = "gave up after " + std::to_string(options_.max_attempts) +
                                 " attempts" +
                                 (record && !record->error.empty() ? ": " + record->error : "");
      if (catalog_.RecordFailure(item.job.image_id, reason, true, now)) {
        if (auto moved = queue_.MoveToDeadLetter(item.message, reason); !moved) {
          LogError("cannot dead-letter", moved.error());
        }
        Publish(item.job.image_id, catalog::ImageStatus::kFailed);
      }
      continue;
    }
    candidates.push_back(std::move(item));
  }
  if (candidates.empty()) return taken;

  std::vector<std::string> ids;
  ids.reserve(candidates.size());
  for (const Item& item : candidates) ids.push_back(item.job.image_id);
  auto statuses = catalog_.StartProcessing(ids, now);
  if (!statuses) {
    for (Item& item : candidates) Retry(item, statuses.error().message);
    return taken;
  }
  std::vector<Item> items;
  double queue_wait_total = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    Item& item = candidates[i];
    const std::optional<catalog::ImageStatus> status = (*statuses)[i];
    if (!status) {
      (void)queue_.Ack(item.message);  // deleted while queued: nothing to do
      continue;
    }
    if (*status != catalog::ImageStatus::kProcessing) {
      (void)queue_.Ack(item.message);  // a redelivery of finished work
      Publish(item.job.image_id, *status);
      continue;
    }
    auto bytes = blobs_.Get(InputKey(item.job.image_id));
    if (!bytes) {
      if (bytes.error().code == ErrorCode::kNotFound) {
        FailPermanently(item, "the uploaded file is missing from the blob store");
      } else {
        Retry(item, bytes.error().message);
      }
      continue;
    }
    item.bytes = std::move(*bytes);
    if (item.job.enqueued_at_ms > 0)
      queue_wait_total += static_cast<double>(now - item.job.enqueued_at_ms);
    Publish(item.job.image_id, catalog::ImageStatus::kProcessing);
    items.push_back(std::move(item));
  }
  if (items.empty()) return taken;

  // Decode in parallel straight into the batch tensor.
  const auto decode_start = Clock::now();
  const std::size_t tensor_size = classifier_.tensor_size();
  std::vector<float> tensors(items.size() * tensor_size);
  std::atomic<std::size_t> next = 0;
  auto decode = [&] {
    for (std::size_t i = next++; i < items.size(); i = next++) {
      items[i].decoded =
          classifier_.Preprocess(items[i].bytes, options_.limits,
                                 std::span(tensors).subspan(i * tensor_size, tensor_size));
    }
  };
  {
    const std::size_t threads =
        std::min(items.size(), options_.decode_threads > 0
                                   ? options_.decode_threads
                                   : std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::jthread> decoders;
    for (std::size_t t = 1; t < threads; ++t) decoders.emplace_back(decode);
    decode();
  }
  const double decode_ms = MillisecondsSince(decode_start);

  // Images that failed to decode leave the batch; the rest are packed together.
  std::vector<Item*> ready;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].decoded) {
      const Error& error = items[i].decoded.error();
      IsPermanent(error) ? FailPermanently(items[i], error.message)
                         : Retry(items[i], error.message);
      continue;
    }
    if (ready.size() != i) {
      std::ranges::copy(std::span(tensors).subspan(i * tensor_size, tensor_size),
                        tensors.begin() + static_cast<std::ptrdiff_t>(ready.size() * tensor_size));
    }
    ready.push_back(&items[i]);
  }
  if (!ready.empty()) {
    const auto inference_start = Clock::now();
    auto classified = classifier_.Classify(std::span(tensors).first(ready.size() * tensor_size),
                                           ready.size(), options_.top_k);
    const double inference_ms = MillisecondsSince(inference_start);
    // Each result goes to the output bucket, then the batch's results to the catalog in one
    // transaction and their acknowledgements in one operation.
    std::vector<Item*> storing;
    std::vector<catalog::ResultToStore> results;
    for (std::size_t i = 0; i < ready.size(); ++i) {
      Item& item = *ready[i];
      if (!classified) {
        Retry(item, classified.error().message);
        continue;
      }
      const engine::Classification& classification = (*classified)[i];
      Json::Value output = engine::ToJson(classification);
      output["id"] = item.job.image_id;
      output["model"] = classifier_.manifest().name;
      Json::StreamWriterBuilder writer;
      writer["indentation"] = "";
      writer["precision"] = 6;
      std::string json = Json::writeString(writer, output);
      const auto* json_bytes = reinterpret_cast<const std::byte*>(json.data());
      // The catalog holds the result; this copy can be written again from it.
      if (auto put = blobs_.Put(OutputKey(item.job.image_id), {json_bytes, json.size()},
                                "application/json", blob::Durability::kRecreatable);
          !put) {
        Retry(item, put.error().message);
        continue;
      }
      results.push_back(
          {.image_id = item.job.image_id,
           .result = {.result_json = std::move(json),
                      .model = classifier_.manifest().name,
                      .inference_ms = inference_ms / static_cast<double>(ready.size()),
                      .search_terms = engine::SearchTerms(classification)}});
      storing.push_back(&item);
    }
    if (!results.empty()) {
      // A result that was stored before (a redelivery) is acknowledged all the same.
      if (auto stored = catalog_.StoreResults(results, NowMs()); !stored) {
        for (Item* item : storing) Retry(*item, stored.error().message);
      } else {
        std::vector<queue::Message> messages;
        messages.reserve(storing.size());
        for (const Item* item : storing) messages.push_back(item->message);
        if (auto acked = queue_.AckAll(messages); !acked) LogError("cannot ack", acked.error());
        for (const Item* item : storing) {
          Publish(item->job.image_id, catalog::ImageStatus::kDone);
        }
      }
    }
    if (auto published = events_.Publish(EncodeBatchEvent(
            {.size = ready.size(),
             .inference_ms = inference_ms,
             .decode_ms = decode_ms,
             .queue_wait_ms = queue_wait_total / static_cast<double>(items.size())}));
        !published) {
      LogError("cannot publish batch event", published.error());
    }
  }
  return taken;
}

void Worker::Run(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    auto processed = RunOnce(std::chrono::milliseconds(200));
    if (!processed) {
      LogError("queue unavailable", processed.error());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace argus::worker
