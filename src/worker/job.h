#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.h"
#include "queue/queue.h"

namespace argus::worker {

// What the web tier puts on the queue for each new image.
struct Job {
  std::string image_id;
  std::int64_t enqueued_at_ms = 0;
};

std::string EncodeJob(const Job& job);

// Enqueues the job of an image. The caller then records in the catalog that it did
// (Catalog::MarkEnqueued, directly or through JobMarks): a crash in between leaves an image
// that ImagesAwaitingJob finds and that is enqueued again (jobs are idempotent).
Result<void> EnqueueJob(queue::Queue& queue, std::string_view image_id, std::int64_t now_ms);
Result<Job> DecodeJob(std::string_view body);

// What workers publish on the event bus, read by the web tier for waiting clients, live
// updates and metrics.
struct ImageEvent {
  std::string image_id;
  std::string status;  // catalog::StatusName
  // With "done", the name of the top label, when it is the result this worker stored (a
  // waiting POST / is answered from it); empty otherwise.
  std::string top_label;
  // With "done" or "failed": this delivery recorded that status. A job delivered again
  // announces its image's status again, unsettled, so that it is counted once.
  bool settled = false;
  // With "uploaded" or "deleted" (sent by the web tier), the account whose entry it is; only
  // that account is told, so no one learns that another account has the same photo.
  std::string owner;
};

struct BatchEvent {
  std::size_t size = 0;
  double inference_ms = 0;
  double decode_ms = 0;
  double queue_wait_ms = 0;       // mean time the batch's jobs waited in the queue
  std::size_t decoded_ahead = 0;  // images decoded before their jobs came (decode_ahead.h)
};

// Image events travel several to a message: a batch's images change status together, and
// one message wakes the web tier once for all of them.
constexpr std::size_t kImageEventsPerMessage = 64;

// One message per kImageEventsPerMessage events, none for none.
std::vector<std::string> EncodeImageEvents(std::span<const ImageEvent> events);
std::string EncodeBatchEvent(const BatchEvent& event);

// A message of either kind read back. kInvalidArgument for anything else — not JSON, another
// kind, or another version's format — which a reader skips: the bus is best effort.
using WorkerEvent = std::variant<std::vector<ImageEvent>, BatchEvent>;
Result<WorkerEvent> DecodeWorkerEvent(std::string_view message);

}  // namespace argus::worker
