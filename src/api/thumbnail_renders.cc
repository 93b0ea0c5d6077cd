#include "api/thumbnail_renders.h"

#include <malloc.h>

#include <utility>

#include "common/log.h"

namespace argus::api {
namespace {

constexpr std::size_t kFailuresKept = 1024;

}  // namespace

ThumbnailRenders::ThumbnailRenders(Bounds bounds)
    : bounds_(bounds), thread_([this](const std::stop_token& stop) { RenderInTurn(stop); }) {}

ThumbnailRenders::~ThumbnailRenders() { Stop(); }

void ThumbnailRenders::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  thread_.request_stop();
  thread_.join();
  std::map<std::string, Pending> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(pending_);
    waiting_.clear();
    turns_.clear();
    waiting_count_ = 0;
  }
  const Result<Bytes> stopping = Fail(ErrorCode::kUnavailable, std::string(kStoppingMessage));
  for (auto& [id, pending] : left) {
    for (const Answer& answer : pending.answers) answer(stopping);
  }
}

bool ThumbnailRenders::IsLasting(const Error& error) {
  return error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kUnsupportedMedia ||
         error.code == ErrorCode::kTooLarge;
}

ThumbnailRenders::Taken ThumbnailRenders::Get(const std::string& id, const std::string& owner,
                                              const std::string& request_id, Render render,
                                              Answer answer) {
  std::unique_lock lock(mutex_);
  if (stopped_) return Taken::kStopping;
  if (auto failed = failed_.find(id); failed != failed_.end()) {
    const Result<Bytes> refused = std::unexpected(failed->second);
    lock.unlock();
    answer(refused);
    return Taken::kYes;
  }
  if (auto shared = pending_.find(id); shared != pending_.end()) {
    shared->second.answers.push_back(std::move(answer));
    return Taken::kYes;
  }
  std::deque<std::string>& mine = waiting_[owner];
  if (waiting_count_ >= bounds_.waiting || mine.size() >= bounds_.waiting_per_owner) {
    if (mine.empty()) waiting_.erase(owner);
    return Taken::kBusy;
  }
  if (mine.empty()) turns_.push_back(owner);
  mine.push_back(id);
  ++waiting_count_;
  pending_.emplace(id, Pending{.owner = owner,
                               .request_id = request_id,
                               .render = std::move(render),
                               .answers = {std::move(answer)}});
  lock.unlock();
  work_.notify_one();
  return Taken::kYes;
}

std::string ThumbnailRenders::NextInTurn() {
  const std::string owner = std::move(turns_.front());
  turns_.pop_front();
  std::deque<std::string>& photos = waiting_.at(owner);
  std::string id = std::move(photos.front());
  photos.pop_front();
  --waiting_count_;
  if (photos.empty()) {
    waiting_.erase(owner);
  } else {
    turns_.push_back(owner);
  }
  return id;
}

void ThumbnailRenders::RenderInTurn(const std::stop_token& stop) {
  while (true) {
    std::unique_lock lock(mutex_);
    // Stopping leaves the photos still waiting to Stop, which answers them.
    if (!work_.wait(lock, stop, [this] { return !turns_.empty(); }) || stop.stop_requested()) {
      return;
    }
    const std::string id = NextInTurn();
    const Pending& pending = pending_.at(id);
    const Render render = pending.render;
    const std::string request_id = pending.request_id;
    lock.unlock();
    Result<Bytes> result = [&] {
      const RequestLogScope in_hand(request_id);
      return render();
    }();
    // The decoded pixels went back to malloc; without this the process keeps them.
    ::malloc_trim(0);
    lock.lock();
    const std::vector<Answer> answers = std::move(pending_.at(id).answers);
    pending_.erase(id);
    if (!result && IsLasting(result.error()) && failed_.emplace(id, result.error()).second) {
      failed_order_.push_back(id);
      if (failed_order_.size() > kFailuresKept) {
        failed_.erase(failed_order_.front());
        failed_order_.pop_front();
      }
    }
    lock.unlock();
    for (const Answer& answer : answers) answer(result);
  }
}

}  // namespace argus::api
