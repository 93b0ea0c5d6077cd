#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/error.h"

namespace argus::api {

// Makes the web tier's thumbnails one at a time, on a thread of its own. A photo within the
// pixel limit in a format libvips cannot shrink while loading (GIF, HEIC, AVIF, progressive
// JPEG) is decoded whole: half a gigabyte for a file of a few bytes that declares
// 10000 × 10000. Requests wait for their render without holding a thread: those waiting
// used to hold the handler threads every route shares, so one account's tiny bombs froze
// others' log-ins for half a minute. Accounts take turns, so that one account's many renders
// do not hold up another's, and each may have a few photos waiting. Requests for the same
// photo while its thumbnail waits or is being made share that one render; a photo whose
// thumbnail cannot be made is not decoded again at each request.
class ThumbnailRenders {
 public:
  using Bytes = std::vector<std::byte>;
  using Render = std::function<Result<Bytes>()>;
  using Answer = std::function<void(const Result<Bytes>&)>;

  struct Bounds {
    // A gallery asks for a page's thumbnails at once (30, and over HTTP/2 all together).
    std::size_t waiting = 256;           // photos waiting, all accounts together
    std::size_t waiting_per_owner = 64;  // photos one account has waiting
  };

  // How Get took a request.
  enum class Taken : std::uint8_t {
    kYes,       // `answer` is called (at once, or in the photo's turn)
    kBusy,      // too many photos wait (Bounds): `answer` is not called
    kStopping,  // Stop was called: `answer` is not called
  };

  explicit ThumbnailRenders(Bounds bounds);
  ThumbnailRenders() : ThumbnailRenders(Bounds{}) {}
  ~ThumbnailRenders();  // Stop()
  ThumbnailRenders(const ThumbnailRenders&) = delete;
  ThumbnailRenders& operator=(const ThumbnailRenders&) = delete;

  // The thumbnail of image `id`, asked for by account `owner` in request `request_id` (which the
  // render's log lines name): made by `render` in its owner's turn, on the renders' thread,
  // unless a render of it waits or is under way (then that one's); or at once, on the calling
  // thread, its last failure when it failed for good before.
  Taken Get(const std::string& id, const std::string& owner, const std::string& request_id,
            Render render, Answer answer);

  // Finishes the render under way and answers the requests still waiting with
  // kStoppingMessage, while the server can still send the answers; later requests are
  // kStopping.
  void Stop();
  static constexpr std::string_view kStoppingMessage = "the server is stopping; retry shortly";

 private:
  struct Pending {
    std::string owner;
    std::string request_id;
    Render render;
    std::vector<Answer> answers;
  };

  // Failures of the photo itself, not of a store that may answer again.
  static bool IsLasting(const Error& error);
  void RenderInTurn(const std::stop_token& stop);
  // The next photo to render: the first of the account whose turn it is. Needs mutex_ and a
  // photo waiting.
  std::string NextInTurn();

  const Bounds bounds_;
  std::mutex mutex_;
  std::condition_variable_any work_;
  bool stopped_ = false;
  std::map<std::string, Pending> pending_;                  // waiting or under way
  std::map<std::string, std::deque<std::string>> waiting_;  // by owner, oldest first
  std::deque<std::string> turns_;                           // owners with photos waiting
  std::size_t waiting_count_ = 0;
  std::map<std::string, Error> failed_;
  std::deque<std::string> failed_order_;  // oldest first, to bound failed_
  std::jthread thread_;                   // last: it uses the members above
};

}  // namespace argus::api
