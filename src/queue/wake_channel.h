#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace argus::queue {

// Wakes receivers of the embedded queue, in any process of the machine, when a message is
// enqueued, so that a lone job does not wait for the next poll. A wake-up may carry a short
// text (workers hear of an image about to be queued this way: worker/decode_ahead.h).
//
// Each listener binds a Unix datagram socket in `folder` (one per queue object); Notify
// sends one datagram to every socket there. A socket whose process died refuses it and is
// removed. The folder is listed again only when an inotify watch on it reports an
// entry created, removed or renamed: listing it for every enqueue cost six system calls. Wake-ups
// are hints: a listener re-checks the queue after each one, and keeps polling for what no wake-up
// announces (visibility timeouts, delayed releases). Where a socket cannot be made (its path is
// longer than a Unix socket allows) Listen fails and the receiver only polls.
class WakeChannel {
 public:
  explicit WakeChannel(std::filesystem::path folder);
  WakeChannel(const WakeChannel&) = delete;
  WakeChannel& operator=(const WakeChannel&) = delete;
  ~WakeChannel();

  // Starts listening if not yet listening; false when this channel cannot listen.
  bool Listen();
  // Returns when a wake-up arrives or after `timeout`, and consumes every pending wake-up;
  // the texts they carried, oldest first. Listen must have succeeded.
  std::vector<std::string> Wait(std::chrono::milliseconds timeout);
  // Wakes every listener (best effort: errors only cost the listeners a poll interval).
  // `text`, at most kMaxTextSize bytes, reaches each of them.
  void Notify(std::string_view text = {});
  // Wakes every listener as Notify does, but `text` reaches them only when there is just
  // one: with several, each gets a plain wake-up. The choice is made on the listing the
  // wake-ups are sent by (a listener whose process died counts until a wake-up finds it gone).
  void NotifyWithTextIfAlone(std::string_view text);

  static constexpr std::size_t kMaxTextSize = 256;

 private:
  // The listening sockets in the folder, listed again when the watch saw it change.
  std::vector<std::string> Listeners();
  bool FolderUnchanged();
  void Send(std::string_view text, bool text_only_if_alone);
  const std::filesystem::path folder_;
  std::mutex mutex_;
  bool listen_failed_ = false;
  int listener_ = -1;
  std::string listener_path_;
  int sender_ = -1;
  int folder_watch_ = -1;  // an inotify descriptor, or -1
  bool watching_ = false;  // whether folder_watch_ watches the folder (it may not exist yet)
  std::vector<std::string> listeners_;
};

}  // namespace argus::queue
