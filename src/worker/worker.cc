#include "worker/worker.h"

#include <json/json.h>
#include <trantor/utils/ConcurrentTaskQueue.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <condition_variable>
#include <format>
#include <latch>
#include <mutex>
#include <optional>
#include <thread>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "common/periodic.h"
#include "worker/handoff.h"
#include "worker/job.h"
#include "worker/split_inference.h"

namespace argus::worker {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFirstOutagePause{250};
constexpr std::chrono::milliseconds kLongestOutagePause{5'000};
constexpr std::chrono::minutes kLongestOutage{10};
constexpr std::chrono::seconds kOutageReportInterval{30};

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Errors that another attempt cannot fix: the bytes themselves are bad.
bool IsPermanent(const Error& error) {
  return error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kUnsupportedMedia ||
         error.code == ErrorCode::kTooLarge || error.code == ErrorCode::kInvalidArgument;
}

ImageEvent EventOf(const std::string& image_id, catalog::ImageStatus status) {
  return {.image_id = image_id, .status = std::string(catalog::StatusName(status))};
}

ImageEvent SettledEventOf(const std::string& image_id, catalog::ImageStatus status,
                          std::string top_label = "") {
  return {.image_id = image_id,
          .status = std::string(catalog::StatusName(status)),
          .top_label = std::move(top_label),
          .settled = true};
}

void LogError(std::string_view what, const Error& error) {
  LogLine("error", "worker", std::string(what) + ": " + error.message);
}

// A result as the catalog keeps it and the output bucket holds it: the classification's
// JSON with the image id and model name.
std::string ResultDocument(const engine::Classification& classification,
                           const std::string& image_id, const std::string& model) {
  Json::Value document = engine::ToJson(classification);
  document["id"] = image_id;
  document["model"] = model;
  return WriteJson(document);
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
  Result<void> read;  // of the bytes from the blob store
  Result<void> decoded;
};

struct Worker::Batch {
  DecodeAhead::Busy busy;                           // from the moment its jobs are received
  std::vector<VisibilityKeeper::Holding> holdings;  // each kept from its receipt
  std::vector<Item> items;                          // in tensor order
  std::vector<float> tensors;  // room for a full batch; the first items.size() images used
  bool alone = false;          // a job tried with no other image in the worker's hands
  double decode_ms = 0;
  double queue_wait_ms = 0;
  double inference_ms = 0;
  std::size_t decoded_ahead = 0;
  std::vector<std::string> outputs;  // the output objects, once inferred
};

struct Worker::LoneJob {
  Item item;
  VisibilityKeeper::Holding holding;
};

Worker::Worker(const engine::Classifier& classifier, queue::Queue& queue, catalog::Catalog& catalog,
               blob::BlobStore& blobs, events::EventBus& events, WorkerOptions options,
               DecodeAhead* decode_ahead)
    : classifier_(classifier),
      queue_(queue),
      catalog_(catalog),
      blobs_(blobs),
      events_(events),
      options_(options),
      keeper_(queue, options.visibility_timeout / 3),
      decode_ahead_(decode_ahead),
      decoder_count_(options.decode_threads > 0
                         ? options.decode_threads
                         : std::max(1u, std::thread::hardware_concurrency())),
      decoders_(std::make_unique<trantor::ConcurrentTaskQueue>(decoder_count_, "decode")),
      engine_helpers_(options.engine_runs > 1 ? std::make_unique<trantor::ConcurrentTaskQueue>(
                                                    options.engine_runs - 1, "engine")
                                              : nullptr) {}

Worker::~Worker() = default;

void Worker::Publish(const std::vector<ImageEvent>& events) {
  for (const std::string& message : EncodeImageEvents(events)) {
    if (auto published = events_.Publish(message); !published) {
      LogError("cannot publish event", published.error());
    }
  }
}

void Worker::FailPermanently(Item& item, const std::string& reason) {
  if (auto recorded = catalog_.RecordFailure(item.job.image_id, reason, true, NowMs()); !recorded) {
    LogError("cannot record failure of " + item.job.image_id, recorded.error());
    return;  // not acknowledged: it comes back and is tried again
  }
  Acknowledge(item.message);
  Publish({SettledEventOf(item.job.image_id, catalog::ImageStatus::kFailed)});
  // Most such photos are damaged, but a file missing from the store is the operator's to see.
  LogLine("warning", "worker", "image " + item.job.image_id + " failed: " + reason);
}

// Unacknowledged, a job comes back after its visibility timeout: the log says why.
void Worker::Acknowledge(const queue::Message& message) {
  if (auto acked = queue_.Ack(message); !acked) LogError("cannot ack", acked.error());
}

void Worker::GiveBack(const queue::Message& message) {
  if (auto released = queue_.Release(message, options_.retry_delay); !released) {
    LogError("cannot release", released.error());
  }
}

void Worker::Retry(Item& item, const std::string& reason) {
  if (auto recorded = catalog_.RecordFailure(item.job.image_id, reason, false, NowMs());
      !recorded) {
    LogError("cannot record failure of " + item.job.image_id, recorded.error());
  }
  GiveBack(item.message);
}

void Worker::SettleFinished(Item& item) {
  const std::string& id = item.job.image_id;
  auto restored = [&]() -> Result<void> {
    auto exists = blobs_.Exists(OutputKey(id));
    if (!exists) return std::unexpected(exists.error());
    if (*exists) return {};
    auto record = catalog_.GetImage(id);
    if (!record) return std::unexpected(record.error());
    auto put = blobs_.Put(OutputKey(id), AsBytes(record->result_json), "application/json",
                          blob::Durability::kRecreatable);
    if (put) DropOutputsOfRemovedImages(std::span(&id, 1));
    return put;
  }();
  if (!restored) {
    LogError("cannot restore the output object of " + id, restored.error());
    // The image keeps its result in the catalog; only the object's copy is missing. A store
    // that is not answering is waited for, as ever; one that answers but cannot take the
    // object (a folder that is not writable) had the job delivered again without end.
    if (restored.error().code == ErrorCode::kUnavailable ||
        item.message.delivery_count < options_.max_attempts) {
      GiveBack(item.message);
      return;
    }
    const std::string reason = "the output object could not be written after " +
                               std::to_string(item.message.delivery_count) +
                               " attempts: " + restored.error().message;
    if (auto moved = queue_.MoveToDeadLetter(item.message, reason); !moved) {
      LogError("cannot dead-letter", moved.error());
    } else {
      LogLine("warning", "worker",
              "image " + id + " is done but its job went to the dead letters: " + reason);
    }
    return;
  }
  Acknowledge(item.message);
  Publish({EventOf(id, catalog::ImageStatus::kDone)});
}

void Worker::DropOutputsOfRemovedImages(std::span<const std::string> ids) {
  if (ids.empty()) return;
  auto exist = catalog_.Exist(ids);
  if (!exist) {
    LogError("cannot check for images removed while classified", exist.error());
    return;
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if ((*exist)[i]) continue;
    if (auto deleted = blobs_.Delete(OutputKey(ids[i])); !deleted) {
      LogError("cannot delete the output object of removed image " + ids[i], deleted.error());
    }
  }
}

void Worker::ReadInput(Item& item) {
  auto bytes = blobs_.Get(InputKey(item.job.image_id));
  Beat();
  if (bytes) {
    item.bytes = std::move(*bytes);
    item.read = {};
  } else {
    item.read = std::unexpected(bytes.error());
  }
}

namespace {

bool StoreUnreachable(const Result<void>& read) {
  return !read && read.error().code == ErrorCode::kUnavailable;
}

// Pauses, longer each time, and calls `try_again` while `unavailable()`, up to kLongestOutage
// or a stop; true when the store ended available.
template <typename Unavailable, typename TryAgain>
bool HoldThroughOutage(const Unavailable& unavailable, const TryAgain& try_again,
                       const std::stop_token& stop, Heartbeat* heartbeat) {
  const auto started = Clock::now();
  std::chrono::milliseconds pause = kFirstOutagePause;
  while (unavailable() && Clock::now() - started < kLongestOutage) {
    if (heartbeat != nullptr) heartbeat->Beat();  // waiting on purpose, not stuck
    if (!PauseUnlessStopped(pause, stop)) break;
    pause = std::min(pause * 2, kLongestOutagePause);
    try_again();
  }
  return !unavailable();
}

// The batches between the preparing stage and the end of settling.
class BatchesInHand {
 public:
  void Add() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void Done() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) none_.notify_all();
  }
  void WaitUntilNone() {
    std::unique_lock lock(mutex_);
    none_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable none_;
  std::size_t count_ = 0;
};

std::string SecondsSince(Clock::time_point start) {
  return std::format("{:.1f} s", std::chrono::duration<double>(Clock::now() - start).count());
}

// While `outcome` of a catalog call is kUnavailable (a catalog that is down, not answering
// or locked), makes the call again with `attempt`, the batch's jobs keeping their visibility
// meanwhile. Giving them back instead counted each delivery as an attempt, so an outage of a
// few seconds failed the images in hand for good.
template <typename T, typename Attempt>
void HoldThroughCatalogOutage(std::string_view what, Result<T>& outcome, const Attempt& attempt,
                              const std::stop_token& stop, Heartbeat* heartbeat) {
  auto unavailable = [&outcome] {
    return !outcome && outcome.error().code == ErrorCode::kUnavailable;
  };
  if (!unavailable()) return;
  LogLine("warning", "worker",
          std::format("catalog unavailable while {}; holding the batch until it answers: {}", what,
                      outcome.error().message));
  const auto started = Clock::now();
  if (HoldThroughOutage(unavailable, [&] { outcome = attempt(); }, stop, heartbeat)) {
    LogLine("info", "worker", "catalog answers again after " + SecondsSince(started));
  }
}

}  // namespace

void Worker::HoldThroughStoreOutage(std::vector<Item>& items, const std::stop_token& stop) {
  auto unreachable = [&items] {
    return std::ranges::count_if(items,
                                 [](const Item& item) { return StoreUnreachable(item.read); });
  };
  if (unreachable() == 0) return;
  const auto first =
      std::ranges::find_if(items, [](const Item& item) { return StoreUnreachable(item.read); });
  LogLine("warning", "worker",
          std::format("blob store unreachable; holding {} jobs until it answers: {}", unreachable(),
                      first->read.error().message));
  const auto started = Clock::now();
  auto read_unreachable = [&] {
    for (Item& item : items) {
      if (StoreUnreachable(item.read)) ReadInput(item);
    }
  };
  if (HoldThroughOutage([&] { return unreachable() > 0; }, read_unreachable, stop,
                        options_.heartbeat)) {
    LogLine("info", "worker", "blob store answers again after " + SecondsSince(started));
  }
}

Result<std::optional<Worker::Batch>> Worker::Prepare(std::chrono::milliseconds wait,
                                                     const std::stop_token& stop) {
  auto received = queue_.Receive(options_.max_batch, wait);
  if (!received) return std::unexpected(received.error());
  if (received->empty()) return std::nullopt;
  DecodeAhead::Busy busy = decode_ahead_ ? decode_ahead_->MarkBusy() : DecodeAhead::Busy();
  // Kept from their receipt: a wait for more jobs as long as the visibility timeout would
  // otherwise have them delivered again, to this very batch.
  std::vector<VisibilityKeeper::Holding> holdings;
  holdings.push_back(keeper_.Keep(*received));
  const auto first_arrival = Clock::now();
  while (received->size() < options_.max_batch) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        options_.max_batch_delay - (Clock::now() - first_arrival));
    if (left <= std::chrono::milliseconds::zero()) break;
    auto more = queue_.Receive(options_.max_batch - received->size(), left);
    if (!more || more->empty()) break;
    holdings.push_back(keeper_.Keep(*more));
    std::ranges::move(*more, std::back_inserter(*received));
  }
  Batch batch{.busy = std::move(busy), .holdings = std::move(holdings)};

  std::vector<Item> candidates;
  for (queue::Message& message : *received) {
    Item item{.message = std::move(message)};
    auto job = DecodeJob(item.message.body);
    if (!job) {
      if (auto moved = queue_.MoveToDeadLetter(item.message, job.error().message); !moved) {
        LogError("cannot dead-letter a malformed job", moved.error());
      } else {
        LogLine("warning", "worker",
                "a malformed job went to the dead letters: " + job.error().message);
      }
      continue;
    }
    item.job = std::move(*job);
    if (item.message.delivery_count > options_.max_attempts && SettleOverAttempts(item)) continue;
    candidates.push_back(std::move(item));
  }
  if (candidates.empty()) return std::nullopt;
  return Decode(std::move(batch), std::move(candidates), stop);
}

bool Worker::SettleOverAttempts(Item& item) {
  auto record = catalog_.GetImage(item.job.image_id);
  if (record && (record->status == catalog::ImageStatus::kDone ||
                 record->status == catalog::ImageStatus::kFailed)) {
    return false;  // finished before, by an earlier delivery: settled as any redelivery is
  }
  if (record && record->solo_attempts == 0) {
    VisibilityKeeper::Holding holding = keeper_.Keep({item.message});
    lone_jobs_.push_back({.item = std::move(item), .holding = std::move(holding)});
    return true;
  }
  const int attempts = item.message.delivery_count - 1;
  std::string reason = "gave up after " + std::to_string(attempts) + " attempts";
  if (record && !record->error.empty()) {
    reason += ": " + record->error;
  } else if (record) {
    reason += ": its worker stopped before finishing it, also with no other image";
  }
  if (catalog_.RecordFailure(item.job.image_id, reason, true, NowMs())) {
    if (auto moved = queue_.MoveToDeadLetter(item.message, reason); !moved) {
      LogError("cannot dead-letter", moved.error());
    } else {
      LogLine(
          "warning", "worker",
          "image " + item.job.image_id + " failed and its job went to the dead letters: " + reason);
    }
    Publish({SettledEventOf(item.job.image_id, catalog::ImageStatus::kFailed)});
  }
  return true;
}

std::optional<Worker::Batch> Worker::PrepareAlone(DecodeAhead::Busy busy,
                                                  const std::stop_token& stop) {
  assert(!lone_jobs_.empty());
  LoneJob lone = std::move(lone_jobs_.front());
  lone_jobs_.pop_front();
  LogLine("info", "worker",
          "image " + lone.item.job.image_id + " is over its attempts: trying it alone");
  Batch batch{.busy = std::move(busy), .alone = true};
  batch.holdings.push_back(std::move(lone.holding));
  std::vector<Item> candidates;
  candidates.push_back(std::move(lone.item));
  return Decode(std::move(batch), std::move(candidates), stop);
}

std::optional<Worker::Batch> Worker::Decode(Batch batch, std::vector<Item> candidates,
                                            const std::stop_token& stop) {
  const std::int64_t now = NowMs();
  // Decoding starts at once, while the catalog marks the images processing: an image the
  // catalog turns out to have finished or deleted costs a wasted decode, which is rare (a
  // redelivery), while every batch would otherwise wait for the catalog first.
  for (Item& item : candidates) ReadInput(item);
  HoldThroughStoreOutage(candidates, stop);
  const auto decode_start = Clock::now();
  const std::size_t tensor_size = classifier_.tensor_size();
  std::vector<float> tensors = TakeTensorBuffer();
  std::vector<std::string> ids;
  ids.reserve(candidates.size());
  for (const Item& item : candidates) ids.push_back(item.job.image_id);
  Result<std::vector<std::optional<catalog::ImageStatus>>> statuses;
  auto announce_processing = [&] {
    std::vector<ImageEvent> processing;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if ((*statuses)[i] == catalog::ImageStatus::kProcessing && candidates[i].read) {
        processing.push_back(EventOf(ids[i], catalog::ImageStatus::kProcessing));
      }
    }
    Publish(processing);
  };
  auto mark = [&]() -> Result<std::vector<std::optional<catalog::ImageStatus>>> {
    if (!batch.alone) return catalog_.StartProcessing(ids, now);
    auto status = catalog_.StartProcessingAlone(ids.front(), now);
    if (!status) return std::unexpected(status.error());
    return std::vector{*status};
  };
  if (batch.alone) {
    // Counted before decoding: a crash in it must find the attempt alone recorded.
    statuses = mark();
    HoldThroughCatalogOutage("marking an image processing alone", statuses, mark, stop,
                             options_.heartbeat);
    if (statuses) announce_processing();
  }
  if (batch.alone && !statuses) {
    ReturnTensorBuffer(std::move(tensors));
    for (Item& item : candidates) Retry(item, statuses.error().message);
    return std::nullopt;
  }
  {
    // This thread decodes, with decoder_count_ - 1 helpers, while a decoder thread has the
    // catalog mark the batch processing. Handing a lone image to a sleeping decoder thread
    // instead, with this thread on the catalog, made it 1.3 ms slower (single-image p50
    // 11.8 against 10.5 ms, six rounds in turns).
    std::latch marked(1);
    if (batch.alone) {
      marked.count_down();
    } else {
      decoders_->runTaskInQueue([&] {
        statuses = mark();
        // Announced while the images decode: right before inference, waking the web tier
        // would take a core from the model.
        if (statuses) announce_processing();
        marked.count_down();
      });
    }
    std::atomic<std::size_t> next = 0;
    std::atomic<std::size_t> decoded_ahead = 0;
    const std::size_t decoders = std::min(candidates.size(), decoder_count_);
    // The batch's decoding time ends with its last decoder, not with the catalog's answer.
    std::atomic<std::size_t> decoding = decoders;
    auto decode = [&] {
      for (std::size_t i = next++; i < candidates.size(); i = next++) {
        Item& item = candidates[i];
        if (!item.read) continue;
        const std::span<float> tensor = std::span(tensors).subspan(i * tensor_size, tensor_size);
        std::optional<Result<void>> ahead =
            decode_ahead_ ? decode_ahead_->Take(item.job.image_id, tensor) : std::nullopt;
        decoded_ahead += ahead.has_value();
        item.decoded =
            ahead ? std::move(*ahead) : classifier_.Preprocess(item.bytes, options_.limits, tensor);
        Beat();
      }
      if (--decoding == 0) batch.decode_ms = MillisecondsSince(decode_start);
    };
    std::latch helped(static_cast<std::ptrdiff_t>(decoders - 1));
    for (std::size_t t = 1; t < decoders; ++t) {
      decoders_->runTaskInQueue([&] {
        decode();
        helped.count_down();
      });
    }
    decode();
    helped.wait();
    marked.wait();
    batch.decoded_ahead = decoded_ahead;
  }
  if (!statuses) {
    HoldThroughCatalogOutage("marking a batch processing", statuses, mark, stop,
                             options_.heartbeat);
    if (statuses) announce_processing();
  }
  if (!statuses) {
    ReturnTensorBuffer(std::move(tensors));
    for (Item& item : candidates) Retry(item, statuses.error().message);
    return std::nullopt;
  }

  // Images that are not to be classified now, or whose bytes are missing or undecodable,
  // leave the batch; the rest are packed together.
  double queue_wait_total = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    Item& item = candidates[i];
    const std::optional<catalog::ImageStatus> status = (*statuses)[i];
    if (!status) {
      Acknowledge(item.message);  // deleted while queued: nothing to do
      continue;
    }
    if (*status == catalog::ImageStatus::kDone) {
      SettleFinished(item);  // a redelivery of finished work
      continue;
    }
    if (*status != catalog::ImageStatus::kProcessing) {
      Acknowledge(item.message);  // failed for good before
      Publish({EventOf(item.job.image_id, *status)});
      continue;
    }
    if (!item.read) {
      if (item.read.error().code == ErrorCode::kNotFound) {
        // The photo may have been deleted, then uploaded again between the read and the mark:
        // the mark found its new round, whose file is there now. That round is tried again.
        auto stored_since = blobs_.Exists(InputKey(item.job.image_id));
        if (stored_since && *stored_since) {
          Retry(item, "its file was stored again while it was being read");
          continue;
        }
        if (stored_since) {
          FailPermanently(item, "the uploaded file is missing from the blob store");
          continue;
        }
        item.read = std::unexpected(stored_since.error());  // as any read the store refused
      }
      // The details (the store's address among them) are for the operator, not the owner.
      LogError("cannot read the upload of " + item.job.image_id, item.read.error());
      Retry(item, "the blob store could not be read; the worker's log has the details");
      continue;
    }
    if (!item.decoded) {
      const Error& error = item.decoded.error();
      IsPermanent(error) ? FailPermanently(item, error.message) : Retry(item, error.message);
      continue;
    }
    const std::size_t slot = batch.items.size();
    if (slot != i) {
      std::ranges::copy(std::span(tensors).subspan(i * tensor_size, tensor_size),
                        tensors.begin() + static_cast<std::ptrdiff_t>(slot * tensor_size));
    }
    if (item.job.enqueued_at_ms > 0) {
      queue_wait_total += static_cast<double>(now - item.job.enqueued_at_ms);
    }
    batch.items.push_back(std::move(item));
  }
  if (batch.items.empty()) {
    ReturnTensorBuffer(std::move(tensors));
    return std::nullopt;
  }
  batch.queue_wait_ms = queue_wait_total / static_cast<double>(batch.items.size());
  batch.tensors = std::move(tensors);
  return batch;
}

// Batch tensors are megabytes: a fresh one per batch caused 62 % of the machine's page
// faults during a burst of 100 uploads on the 2-core VM. Three are in use at most: one
// batch being decoded, one waiting for the model, one in it.
constexpr std::size_t kTensorBuffersInUse = 3;

void Worker::ReserveTensorBuffers() {
  std::lock_guard lock(spare_tensors_mutex_);
  while (spare_tensors_.size() < kTensorBuffersInUse) {
    spare_tensors_.emplace_back(options_.max_batch * classifier_.tensor_size());
  }
}

std::vector<float> Worker::TakeTensorBuffer() {
  std::lock_guard lock(spare_tensors_mutex_);
  if (spare_tensors_.empty()) {
    return std::vector<float>(options_.max_batch * classifier_.tensor_size());
  }
  std::vector<float> buffer = std::move(spare_tensors_.back());
  spare_tensors_.pop_back();
  return buffer;
}

void Worker::ReturnTensorBuffer(std::vector<float> buffer) {
  std::lock_guard lock(spare_tensors_mutex_);
  spare_tensors_.push_back(std::move(buffer));
}

bool Worker::Infer(Batch& batch, const std::stop_token& stop) {
  const std::size_t count = batch.items.size();
  const std::span<const float> tensors =
      std::span(batch.tensors).first(count * classifier_.tensor_size());
  const std::size_t runs =
      InferenceRuns(count, options_.engine_runs, batch.decode_ms, unsplit_ms_per_image_);
  const auto inference_start = Clock::now();
  auto classified = runs > 1 ? ClassifyInParts(classifier_, tensors, count, options_.top_k, runs,
                                               *engine_helpers_)
                             : classifier_.Classify(tensors, count, options_.top_k);
  batch.inference_ms = MillisecondsSince(inference_start);
  Beat();
  if (runs == 1 && count > 1 && classified) {
    unsplit_ms_per_image_ = batch.inference_ms / static_cast<double>(count);
  }
  ReturnTensorBuffer(std::move(batch.tensors));
  if (!classified) {
    for (Item& item : batch.items) Retry(item, classified.error().message);
    return false;
  }
  const std::string& model = classifier_.manifest().name;
  std::vector<catalog::ResultToStore> results;
  results.reserve(batch.items.size());
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    const engine::Classification& classification = (*classified)[i];
    const std::string& id = batch.items[i].job.image_id;
    batch.outputs.push_back(ResultDocument(classification, id, model));
    results.push_back(
        {.image_id = id,
         .result = {.result_json = batch.outputs.back(),
                    .model = model,
                    .inference_ms = batch.inference_ms / static_cast<double>(batch.items.size()),
                    .search_terms = engine::SearchTerms(classification)}});
  }
  // A result that was stored before (a redelivery) is acknowledged all the same.
  auto store = [&] { return catalog_.StoreResults(results, NowMs()); };
  auto stored = store();
  Beat();
  HoldThroughCatalogOutage("storing results", stored, store, stop, options_.heartbeat);
  if (!stored) {
    for (Item& item : batch.items) Retry(item, stored.error().message);
    return false;
  }
  // Waiting clients hear of the results as soon as the catalog has them, with the top
  // label where it is the stored one.
  std::vector<ImageEvent> done;
  done.reserve(batch.items.size());
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    const std::string& id = batch.items[i].job.image_id;
    const std::vector<engine::LabelScore>& labels = (*classified)[i].labels;
    done.push_back((*stored)[i] ? SettledEventOf(id, catalog::ImageStatus::kDone,
                                                 labels.empty() ? "" : labels.front().name)
                                : EventOf(id, catalog::ImageStatus::kDone));
  }
  Publish(done);
  return true;
}

void Worker::Settle(Batch& batch) {
  // An object that cannot be written leaves its job unacknowledged: the redelivery writes
  // it again from the catalog (SettleFinished).
  std::vector<queue::Message> settled;
  std::vector<std::string> written;
  settled.reserve(batch.items.size());
  written.reserve(batch.items.size());
  for (std::size_t i = 0; i < batch.items.size(); ++i) {
    Item& item = batch.items[i];
    auto put = blobs_.Put(OutputKey(item.job.image_id), AsBytes(batch.outputs[i]),
                          "application/json", blob::Durability::kRecreatable);
    Beat();
    if (!put) {
      LogError("cannot write the output object of " + item.job.image_id, put.error());
      GiveBack(item.message);
      continue;
    }
    settled.push_back(item.message);
    written.push_back(item.job.image_id);
  }
  DropOutputsOfRemovedImages(written);
  if (auto acked = queue_.AckAll(settled); !acked) LogError("cannot ack", acked.error());
  if (auto published = events_.Publish(EncodeBatchEvent({.size = batch.items.size(),
                                                         .inference_ms = batch.inference_ms,
                                                         .decode_ms = batch.decode_ms,
                                                         .queue_wait_ms = batch.queue_wait_ms,
                                                         .decoded_ahead = batch.decoded_ahead}));
      !published) {
    LogError("cannot publish batch event", published.error());
  }
}

void Worker::Run(const std::stop_token& stop) {
  // Three stages, each on its own thread, hand batches on one at a time: taking and
  // decoding, the model and the catalog, then output objects and acknowledgements.
  Handoff<Batch> prepared;
  Handoff<Batch> inferred;
  BatchesInHand in_hand;
  std::jthread settler([&] {
    while (auto batch = inferred.Take()) {
      Settle(*batch);
      in_hand.Done();
    }
  });
  std::jthread preparer([&] {
    // An outage (a full disk, a server down) is logged when it starts, every half minute
    // while it lasts and when it ends, not at every retry.
    std::optional<Clock::time_point> unavailable_since;
    Clock::time_point next_report;
    while (!stop.stop_requested()) {
      Beat();
      if (!lone_jobs_.empty()) {
        // The only image decoded or run from the moment the batches before it are settled
        // until it is: a crash meanwhile is its own.
        DecodeAhead::Busy busy = decode_ahead_ ? decode_ahead_->MarkBusy() : DecodeAhead::Busy();
        if (decode_ahead_) decode_ahead_->AwaitDecoding();
        in_hand.WaitUntilNone();
        if (auto batch = PrepareAlone(std::move(busy), stop)) {
          in_hand.Add();
          prepared.Put(std::move(*batch));
          in_hand.WaitUntilNone();
        }
        continue;
      }
      auto batch = Prepare(std::chrono::milliseconds(200), stop);
      if (!batch) {
        const auto now = Clock::now();
        if (!unavailable_since) {
          unavailable_since = now;
          LogError("queue unavailable", batch.error());
          next_report = now + kOutageReportInterval;
        } else if (now >= next_report) {
          LogError("queue still unavailable after " + SecondsSince(*unavailable_since),
                   batch.error());
          next_report = now + kOutageReportInterval;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      if (unavailable_since) {
        LogLine("info", "worker", "queue answers again after " + SecondsSince(*unavailable_since));
        unavailable_since.reset();
      }
      // Not cut short by stop: a batch in hand is finished, never dropped.
      if (*batch) {
        in_hand.Add();
        prepared.Put(std::move(**batch));
      }
    }
    // Jobs still kept for an attempt alone go back, for this worker's successor.
    for (LoneJob& lone : lone_jobs_) GiveBack(lone.item.message);
    lone_jobs_.clear();
    prepared.Close();
  });
  while (auto batch = prepared.Take()) {
    if (Infer(*batch, stop)) {
      inferred.Put(std::move(*batch));
    } else {
      in_hand.Done();
    }
  }
  inferred.Close();
}

}  // namespace argus::worker
