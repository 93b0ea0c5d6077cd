#include "worker/job_marks.h"

#include <utility>

#include "common/log.h"

namespace argus::worker {
namespace {

void FlushOrWarn(JobMarks& marks) {
  if (auto flushed = marks.Flush(); !flushed) {
    LogLine("warning", "web",
            "cannot mark jobs enqueued (they will be enqueued again): " + flushed.error().message);
  }
}

}  // namespace

JobMarks::JobMarks(catalog::Catalog& catalog, std::chrono::milliseconds interval)
    : catalog_(catalog),
      interval_(interval),
      flusher_([this](const std::stop_token& stop) { FlushWhileMarked(stop); }) {}

JobMarks::~JobMarks() {
  flusher_.request_stop();
  flusher_.join();
  FlushOrWarn(*this);
}

void JobMarks::Add(catalog::JobMark mark) {
  {
    std::lock_guard lock(pending_mutex_);
    unwritten_.insert(mark);
    pending_.push_back(std::move(mark));
    if (pending_.size() > 1) return;  // the flusher was woken for the first
  }
  marked_.notify_one();
}

// Sleeps until a mark is pending, gives others the interval to join it, writes them all.
// An idle web tier thus has no thread waking up for marks.
void JobMarks::FlushWhileMarked(const std::stop_token& stop) {
  std::unique_lock lock(pending_mutex_);
  while (marked_.wait(lock, stop, [this] { return !pending_.empty(); })) {
    // Waits out the interval; when stopped instead, the destructor writes what is pending.
    if (marked_.wait_for(lock, stop, interval_, [&stop] { return stop.stop_requested(); })) return;
    lock.unlock();
    FlushOrWarn(*this);
    lock.lock();
  }
}

bool JobMarks::Holds(const catalog::JobMark& mark) {
  std::lock_guard lock(pending_mutex_);
  return unwritten_.contains(mark);
}

Result<void> JobMarks::Flush() {
  std::vector<catalog::JobMark> marks;
  {
    std::lock_guard lock(pending_mutex_);
    marks.swap(pending_);
  }
  if (marks.empty()) return {};
  auto written = catalog_.MarkEnqueued(marks);
  std::lock_guard lock(pending_mutex_);
  for (const catalog::JobMark& mark : marks) unwritten_.erase(mark);
  return written;
}

}  // namespace argus::worker
