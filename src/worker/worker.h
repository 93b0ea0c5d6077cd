#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <vector>

#include "blob/blob_store.h"
#include "catalog/catalog.h"
#include "engine/classifier.h"
#include "events/event_bus.h"
#include "image/limits.h"
#include "queue/queue.h"
#include "worker/decode_ahead.h"
#include "worker/heartbeat.h"
#include "worker/job.h"
#include "worker/visibility_keeper.h"

namespace trantor {
class ConcurrentTaskQueue;
}  // namespace trantor

namespace argus::worker {

struct WorkerOptions {
  std::size_t max_batch = 16;
  // After the first job arrives, wait at most this long for more to fill the batch. None by
  // default: under load the queue fills the next batch while this one runs, and a lone job
  // should not wait for company.
  std::chrono::milliseconds max_batch_delay{0};
  // Deliveries of one job before it is dead-lettered and its image marked failed. A worker
  // that crashes costs every job in its hands a delivery, so a job over them that was never
  // the only one in a worker's hands gets one more attempt alone first: a photo that crashes
  // the worker fails by itself instead of taking the photos batched with it along.
  int max_attempts = 3;
  // The queue's visibility timeout: the jobs of the batch in hand have their visibility
  // extended every third of it (JetStream: "in progress"), so slow work is not redelivered.
  std::chrono::milliseconds visibility_timeout{30'000};
  std::chrono::milliseconds retry_delay{1'000};
  std::size_t decode_threads = 0;  // 0: one per core
  // The most parts a batch's inference is split into, each run on its own thread, while
  // the model is the pipeline's bottleneck (split_inference.h). 1: never split.
  std::size_t engine_runs = 1;
  std::size_t top_k = 5;
  image::Limits limits;
  Heartbeat* heartbeat = nullptr;  // told of every step, for the scaler that started the worker
};

// The app tier: takes batches of jobs from the queue, decodes their images, runs one
// batched inference, stores each result idempotently (catalog row and output object),
// then acknowledges. A job is acknowledged only after its result is stored, so a crash
// anywhere leads to redelivery, never to a lost image.
//
// Three stages run at once, each on its own thread: while one batch is in the model, the
// next is taken from the queue and decoded, and the one before has its output objects
// written and its jobs acknowledged. A worker thus keeps a core busy with decoding and one
// with inference, as `argus classify` does, and waiting clients hear of results as soon
// as the catalog has them.
class Worker {
 public:
  // With `decode_ahead`, started, batches take the images it decoded before their jobs came.
  Worker(const engine::Classifier& classifier, queue::Queue& queue, catalog::Catalog& catalog,
         blob::BlobStore& blobs, events::EventBus& events, WorkerOptions options,
         DecodeAhead* decode_ahead = nullptr);
  ~Worker();

  // Allocates the batch tensors the pipeline holds at once, for a worker started ahead of
  // demand: a first burst then does not wait while megabytes are zeroed and faulted in.
  void ReserveTensorBuffers();

  // Processes batches until stop is requested; the batches in hand are finished first.
  void Run(const std::stop_token& stop);

 private:
  struct Item;
  struct Batch;
  // Takes up to a batch of jobs, waiting up to `wait` for the first, and decodes their
  // images into one tensor. Jobs that need no inference are settled on the way; nullopt
  // when none is left for the model. While the catalog is unavailable the batch is held, its
  // jobs' visibility kept, up to ten minutes or a stop.
  Result<std::optional<Batch>> Prepare(std::chrono::milliseconds wait, const std::stop_token& stop);
  // The next job kept for an attempt alone (lone_jobs_), prepared as a batch of its own.
  // The caller sees to it that no other image is being decoded or run meanwhile.
  std::optional<Batch> PrepareAlone(DecodeAhead::Busy busy, const std::stop_token& stop);
  // Reads and decodes the candidates' images into `batch` while the catalog marks them
  // processing (a batch alone: before decoding); nullopt when none is left for the model.
  std::optional<Batch> Decode(Batch batch, std::vector<Item> candidates,
                              const std::stop_token& stop);
  void ReadInput(Item& item);
  // While the blob store cannot serve some of `items` (refused, timed out, 5xx), waits with
  // growing pauses, their jobs' visibility kept, and reads theirs again: up to ten minutes or
  // a stop, after which they are given back as failed attempts. Each delivery counts towards
  // max_attempts, so giving them back at once failed the images in hand for good in an
  // outage of a few seconds.
  void HoldThroughStoreOutage(std::vector<Item>& items, const std::stop_token& stop);
  // Runs the model on a prepared batch, stores its results in the catalog and announces
  // them; false when the batch was given back to the queue instead. Holds the results through
  // a catalog outage, as Prepare holds a batch, until a stop.
  bool Infer(Batch& batch, const std::stop_token& stop);
  // Writes the output objects of an inferred batch and acknowledges its jobs.
  void Settle(Batch& batch);
  // A redelivered job whose image is already classified: the output object is written
  // again if a crash lost it, then the job is acknowledged.
  void SettleFinished(Item& item);
  // Deletes the output objects just written for images that were removed meanwhile: the web
  // tier deletes an image's objects right after removing it from the catalog, so an object
  // written before the removal goes with them and one written after is caught here.
  void DropOutputsOfRemovedImages(std::span<const std::string> ids);
  std::vector<float> TakeTensorBuffer();
  void ReturnTensorBuffer(std::vector<float> buffer);
  void FailPermanently(Item& item, const std::string& reason);
  void Retry(Item& item, const std::string& reason);
  void Acknowledge(const queue::Message& message);
  void GiveBack(const queue::Message& message);  // to be delivered again after the retry delay
  void Publish(const std::vector<ImageEvent>& events);
  void Beat() const {
    if (options_.heartbeat != nullptr) options_.heartbeat->Beat();
  }
  // A job over its attempts that was never tried alone: dead-lettered, or kept for an attempt
  // alone; false when it goes on into the batch (its image was finished meanwhile).
  bool SettleOverAttempts(Item& item);

  const engine::Classifier& classifier_;
  queue::Queue& queue_;
  catalog::Catalog& catalog_;
  blob::BlobStore& blobs_;
  events::EventBus& events_;
  WorkerOptions options_;
  VisibilityKeeper keeper_;
  // Jobs over their attempts kept, their visibility with them, to be tried one at a time
  // with no other image in hand. Used on the preparing thread only.
  struct LoneJob;
  std::list<LoneJob> lone_jobs_;
  DecodeAhead* decode_ahead_;  // may be null
  // Threads that live as long as the worker: libvips keeps per-thread buffers, which a
  // thread started for each batch would allocate afresh every time.
  std::size_t decoder_count_;
  std::unique_ptr<trantor::ConcurrentTaskQueue> decoders_;
  // Run the other parts of a split batch (engine_runs - 1 threads; none when 1).
  std::unique_ptr<trantor::ConcurrentTaskQueue> engine_helpers_;
  // What a batch's unsplit run took per image, most recently: 0 until one is measured.
  // Used on the inference thread only.
  double unsplit_ms_per_image_ = 0;
  std::mutex spare_tensors_mutex_;
  std::vector<std::vector<float>> spare_tensors_;
};

// Object keys in the blob store.
std::string InputKey(std::string_view image_id);
std::string OutputKey(std::string_view image_id);
std::string ThumbnailKey(std::string_view image_id);

}  // namespace argus::worker
