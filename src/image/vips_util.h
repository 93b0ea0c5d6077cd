#pragma once

// Internal to the image module: ownership and error plumbing for the libvips C API.

#include <vips/vips.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

namespace argus::image::internal {

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;
using VipsRegionPtr = std::unique_ptr<VipsRegion, GObjectUnref>;

// Builds an Error from libvips' pending messages and clears them. Only the messages of a step
// run alone by RunWithOwnErrors are its own.
Error VipsError(ErrorCode code, std::string_view what);

// libvips keeps one error buffer for the whole process, and every thread's failures write to
// it: while images decode on several threads, the messages read after a failure may include
// another image's, or miss their own, cleared by another thread (an upload was refused with a
// neighbour's decoder message). So each public function of this module runs its libvips work as
// one step, concurrently with other steps; a step that fails with libvips' messages (VipsError)
// runs again alone, with the buffer empty, and that run's result is returned. Failures are
// rare, and a failure found by our own checks (limits, formats) is not run again.
//
// A step must not call RunWithOwnErrors itself.
class VipsStepLock {
 public:
  enum class Mode : std::uint8_t { kShared, kAlone };
  explicit VipsStepLock(Mode mode);
  VipsStepLock(const VipsStepLock&) = delete;
  VipsStepLock& operator=(const VipsStepLock&) = delete;
  ~VipsStepLock();

 private:
  const Mode mode_;
};

// libheif reports each seek it makes past the data read so far ("source: bad seek to 27599"),
// for valid files too. Such lines tell a user nothing, and libvips keeps them in its error
// buffer, where the next message about another image picked them up.
bool IsSeekNoise(std::string_view line);

// The lines of a libvips message, without seek noise and repeats, joined by "; " (empty: only
// noise).
std::string OneLineWithoutNoise(std::string_view message);

// How many errors VipsError has built on this thread.
std::uint64_t VipsErrorsBuilt();

// Empties libvips' error buffer of the messages a step that succeeded left there (a
// decoder's warnings about a damaged file it read anyway), which libvips otherwise logs
// again with every later warning of any image.
void DropMessagesOfASuccess();

template <typename Step>
auto RunWithOwnErrors(Step&& step) -> decltype(step()) {
  const std::uint64_t built = VipsErrorsBuilt();
  {
    VipsStepLock shared(VipsStepLock::Mode::kShared);
    auto result = step();
    if (result) DropMessagesOfASuccess();
    if (result || VipsErrorsBuilt() == built) return result;
  }
  VipsStepLock alone(VipsStepLock::Mode::kAlone);
  return step();
}

}  // namespace argus::image::internal
