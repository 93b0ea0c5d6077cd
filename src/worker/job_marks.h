#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/error.h"
#include "common/periodic.h"

namespace argus::worker {

// Records in the catalog, a batch at a time, that images' jobs were enqueued
// (Catalog::MarkEnqueued). The mark only keeps the re-enqueueing of images without a job
// (ImagesAwaitingJob, for images a minute old) from sending a second one, so it may lag
// behind the enqueue: a process that dies with marks pending leaves images that are
// enqueued again, which jobs' idempotence makes harmless. An upload thus waits for one
// catalog statement less, and a burst of uploads is marked in a few.
class JobMarks {
 public:
  // Pending marks are written every `interval` and when the object is destroyed.
  JobMarks(catalog::Catalog& catalog, std::chrono::milliseconds interval);
  ~JobMarks();
  JobMarks(const JobMarks&) = delete;
  JobMarks& operator=(const JobMarks&) = delete;

  void Add(std::string image_id);
  // Writes the pending marks now. Marks that cannot be written are dropped, as a crash
  // would drop them: their images are enqueued again later.
  Result<void> Flush();

 private:
  catalog::Catalog& catalog_;
  std::mutex pending_mutex_;
  std::vector<std::string> pending_;
  Periodic flusher_;  // last: stopped before the members it uses go
};

}  // namespace argus::worker
