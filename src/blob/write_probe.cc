#include "blob/write_probe.h"

#include <array>
#include <cstddef>
#include <filesystem>
#include <format>
#include <system_error>

namespace argus::blob {

Result<void> WriteProbe::WriteAndDelete() {
  constexpr std::array<std::byte, 1> kContent{std::byte{'1'}};
  if (auto put = blobs_.Put(kKey, kContent, "text/plain", Durability::kRecreatable); !put) {
    return put;
  }
  if (auto deleted = blobs_.Delete(kKey); !deleted) return deleted;
  return CheckRoom();
}

Result<void> WriteProbe::CheckRoom() {
  auto file = blobs_.LocalFileOf(kKey);
  if (!file || room_needed_ == 0) return {};  // a store elsewhere (S3) keeps its own room
  const std::filesystem::path folder = std::filesystem::path(*file).parent_path();
  std::error_code error;
  const std::filesystem::space_info space = std::filesystem::space(folder, error);
  if (error || space.available >= room_needed_) return {};
  constexpr double kMegabyte = 1024.0 * 1024.0;
  return Fail(ErrorCode::kNoSpace,
              std::format("the disk of {}: {:.1f} MB free, less than the {:.1f} MB one upload may "
                          "take",
                          folder.string(), static_cast<double>(space.available) / kMegabyte,
                          static_cast<double>(room_needed_) / kMegabyte));
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
