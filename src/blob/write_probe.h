#pragma once

#include <chrono>
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
// The outcome is reused for `reuse_for`, and a check asked for while another runs answers
// the last outcome, so a load balancer probing often writes at most once per period and
// never queues threads behind a store that hangs. Thread-safe.
class WriteProbe {
 public:
  WriteProbe(BlobStore& blobs, std::chrono::steady_clock::duration reuse_for)
      : blobs_(blobs), reuse_for_(reuse_for) {}

  Result<void> Check();

  // The object the probe writes: a name no image id can take.
  static constexpr std::string_view kKey = "inputs/write-probe";

 private:
  Result<void> WriteAndDelete();
  // The last check's outcome; none before the first, or when `fresh_only` and it is older than
  // reuse_for_.
  std::optional<Result<void>> LastOutcome(bool fresh_only);

  BlobStore& blobs_;
  const std::chrono::steady_clock::duration reuse_for_;
  std::mutex checking_;  // held while the store is written
  std::mutex last_mutex_;
  std::optional<Result<void>> last_;
  std::chrono::steady_clock::time_point last_at_{};
};

}  // namespace argus::blob
