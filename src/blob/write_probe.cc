#include "blob/write_probe.h"

#include <array>
#include <cstddef>

namespace argus::blob {

Result<void> WriteProbe::WriteAndDelete() {
  constexpr std::array<std::byte, 1> kContent{std::byte{'1'}};
  if (auto put = blobs_.Put(kKey, kContent, "text/plain", Durability::kRecreatable); !put) {
    return put;
  }
  return blobs_.Delete(kKey);
}

std::optional<Result<void>> WriteProbe::LastOutcome(bool fresh_only) {
  std::lock_guard lock(last_mutex_);
  if (!last_) return std::nullopt;
  if (fresh_only && std::chrono::steady_clock::now() - last_at_ >= reuse_for_) return std::nullopt;
  return last_;
}

Result<void> WriteProbe::Check() {
  std::unique_lock checking(checking_, std::try_to_lock);
  if (!checking.owns_lock()) {
    if (auto last = LastOutcome(/*fresh_only=*/false)) return *last;
    checking.lock();  // the first check of all: wait for its outcome
  }
  if (auto last = LastOutcome(/*fresh_only=*/true)) return *last;
  auto outcome = WriteAndDelete();
  std::lock_guard lock(last_mutex_);
  last_ = outcome;
  last_at_ = std::chrono::steady_clock::now();
  return outcome;
}

}  // namespace argus::blob
