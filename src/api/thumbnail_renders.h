#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"

namespace argus::api {

// Makes the web tier's thumbnails one at a time. A photo within the pixel limit in a format
// libvips cannot shrink while loading (GIF, HEIC, AVIF, progressive JPEG) is decoded whole:
// half a gigabyte for a file of a few bytes that declares 10000 × 10000. Requests for the
// same photo while its thumbnail is being made share that one render; a photo whose
// thumbnail cannot be made is not decoded again at each request.
class ThumbnailRenders {
 public:
  using Bytes = std::vector<std::byte>;
  using Render = std::function<Result<Bytes>()>;

  // The thumbnail of image `id`, by `render` unless a render of it is under way or it failed
  // for good before (its last failure, without rendering).
  Result<Bytes> Get(const std::string& id, const Render& render);

 private:
  // Failures of the photo itself, not of a store that may answer again.
  static bool IsLasting(const Error& error);

  std::mutex mutex_;
  std::map<std::string, std::shared_future<Result<Bytes>>> in_flight_;
  std::map<std::string, Error> failed_;
  std::deque<std::string> failed_order_;  // oldest first, to bound failed_
  std::mutex rendering_;                  // held by the one render under way
};

}  // namespace argus::api
