#include "image/vips_util.h"

#include <mutex>
#include <ranges>
#include <shared_mutex>
#include <string>
#include <utility>

namespace argus::image::internal {
namespace {

thread_local std::uint64_t errors_built = 0;

// glibc's reader-writer lock lets readers in while a writer waits, and decoding threads keep
// one another's shared holds overlapping, so a step waiting to run alone could wait for as long
// as the load lasts. Every step passes the gate first, and a step waiting to run alone holds it.
std::mutex gate;
std::shared_mutex steps;

}  // namespace

Error VipsError(ErrorCode code, std::string_view what) {
  ++errors_built;
  // Copy-and-clear is one locked step, so a concurrent failure cannot be lost between the two.
  char* raw = vips_error_buffer_copy();
  const std::string_view detail(raw);

  // libvips ends every message with a newline; one line reads better in logs and JSON.
  std::string message(what);
  std::string_view separator = ": ";
  for (const auto line : std::views::split(detail, '\n')) {
    if (line.empty()) {
      continue;
    }
    message.append(separator).append(std::string_view(line));
    separator = "; ";
  }
  g_free(raw);
  return Error{code, std::move(message)};
}

std::uint64_t VipsErrorsBuilt() { return errors_built; }

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
