#pragma once

// Internal to the image module: ownership and error plumbing for the libvips C API.

#include <vips/vips.h>

#include <memory>
#include <string_view>

#include "common/error.h"

namespace argus::image::internal {

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
using VipsImagePtr = std::unique_ptr<VipsImage, GObjectUnref>;
using VipsRegionPtr = std::unique_ptr<VipsRegion, GObjectUnref>;

// Builds an Error from libvips' pending messages and clears them. libvips keeps one buffer for
// the whole process, so it must be drained right after the failing call or the next failure, on
// any thread, would report this one's text too.
Error VipsError(ErrorCode code, std::string_view what);

}  // namespace argus::image::internal
