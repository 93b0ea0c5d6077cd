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
    : catalog_(catalog), flusher_(interval, [this] { FlushOrWarn(*this); }) {}

JobMarks::~JobMarks() { FlushOrWarn(*this); }

void JobMarks::Add(std::string image_id) {
  std::lock_guard lock(pending_mutex_);
  pending_.push_back(std::move(image_id));
}

Result<void> JobMarks::Flush() {
  std::vector<std::string> marks;
  {
    std::lock_guard lock(pending_mutex_);
    marks.swap(pending_);
  }
  if (marks.empty()) return {};
  return catalog_.MarkEnqueued(marks);
}

}  // namespace argus::worker
