#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "common/error.h"

namespace argus::worker {

// Records in the catalog, a batch at a time, that images' jobs were enqueued
// (Catalog::MarkEnqueued). The mark only keeps the re-enqueueing of images without a job
// (ImagesAwaitingJob, for images a minute old) from sending a second one, so it may lag
// behind the enqueue: a process that dies with marks pending leaves images that are
// enqueued again, which jobs' idempotence makes harmless. An upload thus waits for one
// catalog statement less, and a burst of uploads is marked in a few.
class JobMarks {
 public:
  // A mark is written at most `interval` after it is added, with the others added
  // meanwhile, and when the object is destroyed. Nothing runs while none is pending.
  JobMarks(catalog::Catalog& catalog, std::chrono::milliseconds interval);
  ~JobMarks();
  JobMarks(const JobMarks&) = delete;
  JobMarks& operator=(const JobMarks&) = delete;

  void Add(catalog::JobMark mark);
  // Whether the mark is added and not yet written: the round's job is in the queue though
  // the catalog does not say so yet, so a concurrent upload of the same content must not
  // queue a second one. A mark of an earlier round holds nothing for a later one.
  bool Holds(const catalog::JobMark& mark);
  // Writes the pending marks now. Marks that cannot be written are dropped, as a crash
  // would drop them: their images are enqueued again later.
  Result<void> Flush();

 private:
  void FlushWhileMarked(const std::stop_token& stop);

  catalog::Catalog& catalog_;
  const std::chrono::milliseconds interval_;
  std::mutex pending_mutex_;
  std::condition_variable_any marked_;
  std::vector<catalog::JobMark> pending_;
  std::set<catalog::JobMark> unwritten_;  // pending_ and the marks being written
  std::jthread flusher_;                  // last: started after the members it uses
};

}  // namespace argus::worker
