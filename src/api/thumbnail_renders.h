#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace argus::api {

// Makes the web tier's thumbnails one at a time, on a thread of its own. A photo within the
// pixel limit in a format libvips cannot shrink while loading (GIF, HEIC, AVIF, progressive
// JPEG) is decoded whole: half a gigabyte for a file of a few bytes that declares
// 10000 × 10000. Requests wait for their render without holding a thread: those waiting
// used to hold the handler threads every route shares, so one account's tiny bombs froze
// others' log-ins for half a minute. Requests for the same photo while its thumbnail waits
// or is being made share that one render; a photo whose thumbnail cannot be made is not
// decoded again at each request.
class ThumbnailRenders {
 public:
  using Bytes = std::vector<std::byte>;
  using Render = std::function<Result<Bytes>()>;
  using Answer = std::function<void(const Result<Bytes>&)>;

  // Up to `most_waiting` photos wait for their turn; a request for another one is refused.
  explicit ThumbnailRenders(std::size_t most_waiting = 64);
  // Finishes the render under way; photos still waiting are answered kUnavailable.
  ~ThumbnailRenders();
  ThumbnailRenders(const ThumbnailRenders&) = delete;
  ThumbnailRenders& operator=(const ThumbnailRenders&) = delete;

  // Calls `answer` with the thumbnail of image `id`: made by `render` in its turn, on the
  // renders' thread, unless a render of it waits or is under way (then that one's). At once,
  // on the calling thread, with its last failure when it failed for good before, or with
  // kUnavailable when `most_waiting` photos wait already.
  void Get(const std::string& id, Render render, Answer answer);

 private:
  struct Pending {
    Render render;
    std::vector<Answer> answers;
  };

  // Failures of the photo itself, not of a store that may answer again.
  static bool IsLasting(const Error& error);
  void RenderInTurn(const std::stop_token& stop);

  const std::size_t most_waiting_;
  std::mutex mutex_;
  std::condition_variable_any work_;
  std::map<std::string, Pending> pending_;  // waiting or under way
  std::deque<std::string> waiting_;         // oldest first
  std::map<std::string, Error> failed_;
  std::deque<std::string> failed_order_;  // oldest first, to bound failed_
  std::jthread thread_;                   // last: it uses the members above
};

}  // namespace argus::api
