#include "api/thumbnail_renders.h"

#include <malloc.h>

#include <format>
#include <utility>

namespace argus::api {
namespace {

constexpr std::size_t kFailuresKept = 1024;

}  // namespace

ThumbnailRenders::ThumbnailRenders(std::size_t most_waiting)
    : most_waiting_(most_waiting),
      thread_([this](const std::stop_token& stop) { RenderInTurn(stop); }) {}

ThumbnailRenders::~ThumbnailRenders() {
  thread_.request_stop();
  thread_.join();
  std::map<std::string, Pending> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(pending_);
    waiting_.clear();
  }
  const Result<Bytes> stopping = Fail(ErrorCode::kUnavailable, "the server is stopping");
  for (auto& [id, pending] : left) {
    for (const Answer& answer : pending.answers) answer(stopping);
  }
}

bool ThumbnailRenders::IsLasting(const Error& error) {
  return error.code == ErrorCode::kCorrupt || error.code == ErrorCode::kUnsupportedMedia ||
         error.code == ErrorCode::kTooLarge;
}

void ThumbnailRenders::Get(const std::string& id, Render render, Answer answer) {
  std::unique_lock lock(mutex_);
  if (auto failed = failed_.find(id); failed != failed_.end()) {
    const Result<Bytes> refused = std::unexpected(failed->second);
    lock.unlock();
    return answer(refused);
  }
  if (auto shared = pending_.find(id); shared != pending_.end()) {
    shared->second.answers.push_back(std::move(answer));
    return;
  }
  if (waiting_.size() >= most_waiting_) {
    lock.unlock();
    return answer(Fail(
        ErrorCode::kUnavailable,
        std::format("{} thumbnails wait to be made already; try again shortly", most_waiting_)));
  }
  pending_.emplace(id, Pending{.render = std::move(render), .answers = {std::move(answer)}});
  waiting_.push_back(id);
  lock.unlock();
  work_.notify_one();
}

void ThumbnailRenders::RenderInTurn(const std::stop_token& stop) {
  while (true) {
    std::unique_lock lock(mutex_);
    if (!work_.wait(lock, stop, [this] { return !waiting_.empty(); })) return;
    const std::string id = std::move(waiting_.front());
    waiting_.pop_front();
    const Render render = pending_.at(id).render;
    lock.unlock();
    const Result<Bytes> result = render();
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
