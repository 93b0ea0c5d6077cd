#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "blob/blob_store.h"
#include "common/error.h"

namespace argus::blob {

// Whether uploads can be stored: writes and deletes a small object among the inputs, as an
// upload would, for a readiness check. A store that answers reads but refuses writes (a full
// disk, a folder made read-only, a bucket policy) would otherwise be reported ready while
// every upload fails.
//
// On a store in a local folder, the check also fails while the folder's disk has less room
// than `room_needed` (one upload at its size limit): a disk that still takes the probe's byte
// but refuses most uploads is not ready either.
//
// The outcome is reused for `reuse_for`, and a check asked for while another runs answers
// the last outcome, so a load balancer probing often writes at most once per period and
// never queues threads behind a store that hangs. Thread-safe.
class WriteProbe {
 public:
  WriteProbe(BlobStore& blobs, std::chrono::steady_clock::duration reuse_for,
             std::uint64_t room_needed = 0)
      : blobs_(blobs), reuse_for_(reuse_for), room_needed_(room_needed) {}

  Result<void> Check();

  // The object the probe writes: a name no image id can take.
  static constexpr std::string_view kKey = "inputs/write-probe";

 private:
  Result<void> WriteAndDelete();
  Result<void> CheckRoom();
  // The last check's outcome; none before the first, or when `fresh_only` and it is older than
  // reuse_for_.
  std::optional<Result<void>> LastOutcome(bool fresh_only);

  BlobStore& blobs_;
  const std::chrono::steady_clock::duration reuse_for_;
  const std::uint64_t room_needed_;
  std::mutex checking_;  // held while the store is written
  std::mutex last_mutex_;
  std::optional<Result<void>> last_;
  std::chrono::steady_clock::time_point last_at_{};
};

}  // namespace argus::blob
