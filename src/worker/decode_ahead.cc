#include "worker/decode_ahead.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>

#include "worker/worker.h"

namespace argus::worker {

DecodeAhead::Busy::Busy(DecodeAhead* owner) : owner_(owner) {
  std::lock_guard lock(owner_->mutex_);
  ++owner_->busy_;
}

DecodeAhead::Busy::Busy(Busy&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}

DecodeAhead::Busy& DecodeAhead::Busy::operator=(Busy&& other) noexcept {
  std::swap(owner_, other.owner_);
  return *this;
}

DecodeAhead::Busy::~Busy() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mutex_);
  if (--owner_->busy_ == 0) owner_->idle_.notify_all();
}

DecodeAhead::DecodeAhead(std::filesystem::path folder, const engine::Classifier& classifier,
                         blob::BlobStore& blobs, image::Limits limits)
    : channel_(std::move(folder)),
      classifier_(classifier),
      blobs_(blobs),
      limits_(limits),
      tensor_(classifier.tensor_size()) {}

DecodeAhead::~DecodeAhead() = default;

bool DecodeAhead::Start() {
  if (listener_.joinable()) return true;
  if (!channel_.Listen()) return false;
  listener_ = std::jthread([this](const std::stop_token& stop) { Listen(stop); });
  return true;
}

void DecodeAhead::Listen(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    // A busy worker does not even read the announcements: under load every upload sends one.
    bool waited = false;
    {
      std::unique_lock lock(mutex_);
      while (busy_ > 0 && !stop.stop_requested()) {
        waited = true;
        idle_.wait(lock, stop, [this] { return busy_ == 0; });
      }
    }
    // What came meanwhile is for jobs the batches have taken.
    if (waited) channel_.Wait(std::chrono::milliseconds(0));
    const std::vector<std::string> announced = channel_.Wait(std::chrono::milliseconds(200));
    // Several at once are a burst's first uploads; the queue delivers the first one first.
    if (!announced.empty()) Decode(announced.front());
  }
}

void DecodeAhead::Decode(const std::string& image_id) {
  {
    std::lock_guard lock(mutex_);
    if (busy_ > 0 || decoding_ || image_id == image_id_) return;
    image_id_ = image_id;
    decoding_ = true;
    ++started_;
  }
  auto bytes = blobs_.Get(InputKey(image_id));
  Result<void> result =
      bytes ? classifier_.Preprocess(*bytes, limits_, tensor_) : std::unexpected(bytes.error());
  {
    std::lock_guard lock(mutex_);
    decoding_ = false;
    result_ = std::move(result);
    // Bytes that could not be read are the batch's to read and report, not ours.
    if (!bytes) image_id_.clear();
  }
  decoded_.notify_all();
}

std::optional<Result<void>> DecodeAhead::Take(std::string_view image_id, std::span<float> tensor) {
  assert(tensor.size() == tensor_.size());
  std::unique_lock lock(mutex_);
  if (image_id_.empty() || image_id_ != image_id) return std::nullopt;
  decoded_.wait(lock, [this] { return !decoding_; });
  if (image_id_ != image_id) return std::nullopt;
  image_id_.clear();
  ++taken_;
  if (result_) std::ranges::copy(tensor_, tensor.begin());
  return result_;
}

void DecodeAhead::AwaitDecoding() {
  std::unique_lock lock(mutex_);
  decoded_.wait(lock, [this] { return !decoding_; });
}

std::uint64_t DecodeAhead::taken() const {
  std::lock_guard lock(mutex_);
  return taken_;
}

std::uint64_t DecodeAhead::started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

std::filesystem::path DecodeAheadFolder(const std::filesystem::path& data_dir) {
  return data_dir / "decode-ahead";
}

void AnnounceUpload(queue::WakeChannel& channel, std::string_view image_id) {
  channel.NotifyWithTextIfAlone(image_id);
}

}  // namespace argus::worker
