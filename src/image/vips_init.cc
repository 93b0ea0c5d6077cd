#include "image/vips_init.h"

#include <vips/vips.h>

#include <mutex>

namespace argus::image {

void InitializeVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Only a broken installation fails here; nothing in this module could work without it.
    if (VIPS_INIT("argus") != 0) {
      vips_error_exit("cannot initialise libvips");
    }
    vips_cache_set_max(0);
    vips_concurrency_set(1);
  });
}

}  // namespace argus::image
