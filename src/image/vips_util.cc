#include "image/vips_util.h"

#include <algorithm>
#include <mutex>
#include <ranges>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace argus::image::internal {
namespace {

thread_local std::uint64_t errors_built = 0;

// glibc's reader-writer lock lets readers in while a writer waits, and decoding threads keep
// one another's shared holds overlapping, so a step waiting to run alone could wait for as long
// as the load lasts. Every step passes the gate first, and a step waiting to run alone holds it.
std::mutex gate;
std::shared_mutex steps;

}  // namespace

bool IsSeekNoise(std::string_view line) { return line.contains("bad seek to "); }

std::string OneLineWithoutNoise(std::string_view message) {
  std::string joined;
  std::vector<std::string_view> seen;
  for (const auto part : std::views::split(message, '\n')) {
    const std::string_view line(part);
    // A decoder's warning is often in the buffer twice or more (each read of the same strip).
    if (line.empty() || IsSeekNoise(line) || std::ranges::contains(seen, line)) continue;
    seen.push_back(line);
    if (!joined.empty()) joined += "; ";
    joined += line;
  }
  return joined;
}

Error VipsError(ErrorCode code, std::string_view what) {
  ++errors_built;
  // Copy-and-clear is one locked step, so a concurrent failure cannot be lost between the two.
  char* raw = vips_error_buffer_copy();
  // libvips ends every message with a newline; one line reads better in logs and JSON.
  const std::string detail = OneLineWithoutNoise(raw);
  g_free(raw);
  // Not damage: a valid file the decoder does not take (12-bit or lossless JPEG), or one over
  // libheif's own size limit, which a header of other dimensions can hide from the probe, or
  // over libspng's (a PNG whose width passes 2^31 - 1 pixels is refused before its size is
  // known).
  if (code == ErrorCode::kCorrupt && detail.contains("Unsupported JPEG")) {
    code = ErrorCode::kUnsupportedMedia;
    what = "a kind of JPEG the decoder does not support";
  } else if (code == ErrorCode::kCorrupt && (detail.contains("Security limit exceeded") ||
                                             detail.contains("exceeds user limit"))) {
    code = ErrorCode::kTooLarge;
    what = "the image is larger than its decoder allows";
  }
  std::string message(what);
  if (!detail.empty()) message.append(": ").append(detail);
  return Error{code, std::move(message)};
}

std::uint64_t VipsErrorsBuilt() { return errors_built; }

// A step failing meanwhile on another thread may lose its messages here; it runs again alone
// (RunWithOwnErrors) and reports that run's.
void DropMessagesOfASuccess() {
  if (*vips_error_buffer() != '\0') vips_error_clear();
}

VipsStepLock::VipsStepLock(Mode mode) : mode_(mode) {
  if (mode_ == Mode::kShared) {
    {
      std::lock_guard pass(gate);
    }
    steps.lock_shared();
    return;
  }
  gate.lock();
  steps.lock();
  vips_error_clear();
}

VipsStepLock::~VipsStepLock() {
  if (mode_ == Mode::kShared) {
    steps.unlock_shared();
    return;
  }
  steps.unlock();
  gate.unlock();
}

}  // namespace argus::image::internal
