#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "blob/blob_store.h"
#include "common/error.h"
#include "engine/classifier.h"
#include "image/limits.h"
#include "queue/wake_channel.h"

namespace argus::worker {

// Decoding an image while its job is still on the way to an idle worker.
//
// The web tier stores an upload's bytes, then records it in the catalog and queues its job,
// and the worker then receives the job and reads and decodes the bytes: on a lone image the
// catalog, queue and hand-off take about a millisecond before decoding starts. The web tier
// therefore announces a new image by its id to the worker of its machine as soon as its
// bytes are stored (AnnounceUpload); a worker holding no batch starts decoding it at once,
// and the batch that receives its job takes the tensor instead of decoding it (Take).
//
// Announcements are hints: one that no idle worker hears costs nothing, and a job that was
// not decoded ahead is decoded as before. A worker that holds a batch lets announcements
// pass, since then its decoding threads have work and the cores are taken. One image is
// decoded ahead at a time, and only while one worker runs on the machine: with more, the
// job goes to whichever receives it first, and a decoding the receiver did not do takes a
// core from it and from the web tier (with two idle workers a lone image's p50 was 10.2
// against 9.8 ms when both decoded it, and 9.9 against 9.4 ms when a lock let only one).
class DecodeAhead {
 public:
  // Holds announcements off while alive: a worker keeps one with each batch in hand.
  class Busy {
   public:
    Busy() = default;
    explicit Busy(DecodeAhead* owner);
    Busy(Busy&& other) noexcept;
    Busy& operator=(Busy&& other) noexcept;
    ~Busy();

   private:
    DecodeAhead* owner_ = nullptr;
  };

  DecodeAhead(std::filesystem::path folder, const engine::Classifier& classifier,
              blob::BlobStore& blobs, image::Limits limits);
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead();

  // Starts listening for announcements; false when the folder cannot be listened in, and
  // then nothing is decoded ahead.
  bool Start();

  Busy MarkBusy() { return Busy(this); }
  // Waits until no image is being decoded ahead: with a Busy held, none starts afterwards.
  void AwaitDecoding();

  // When `image_id` was decoded ahead, or is being decoded, waits for the decoding and
  // returns its result, the tensor copied into `tensor`; nullopt otherwise. The image is
  // taken: a second call for it returns nullopt.
  std::optional<Result<void>> Take(std::string_view image_id, std::span<float> tensor);

  // Images whose decoding ahead was taken, and started.
  std::uint64_t taken() const;
  std::uint64_t started() const;

 private:
  void Listen(const std::stop_token& stop);
  void Decode(const std::string& image_id);

  queue::WakeChannel channel_;
  const engine::Classifier& classifier_;
  blob::BlobStore& blobs_;
  const image::Limits limits_;

  mutable std::mutex mutex_;
  std::condition_variable decoded_;
  std::condition_variable_any idle_;
  int busy_ = 0;
  std::string image_id_;  // of the image in the tensor, or being decoded into it; "" when none
  bool decoding_ = false;
  Result<void> result_;
  std::vector<float> tensor_;
  std::uint64_t taken_ = 0;
  std::uint64_t started_ = 0;

  std::jthread listener_;  // last: stopped and joined before the members it uses go
};

// Where the web tier and the workers of a machine meet: the same data directory gives the
// same folder.
std::filesystem::path DecodeAheadFolder(const std::filesystem::path& data_dir);

// The web tier's side: tells the machine's worker, if it is the only one, that `image_id`'s
// bytes are stored and its job is about to be queued. Otherwise the workers get a wake-up
// without an image, which they ignore: sending it finds the sockets of workers that died.
void AnnounceUpload(queue::WakeChannel& channel, std::string_view image_id);

}  // namespace argus::worker
