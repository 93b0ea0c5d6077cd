#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace argus::cli {

// The SQLite files of the catalog and the queue, as the web tier opened them. One removed or
// replaced under the running service (a clean-up of the data directory, a restore copied over
// it) kept taking uploads into a file that was gone at the next start: 425 uploads answered
// 202 in 6 s, then lost.
class StoreFilesWatch {
 public:
  struct Store {
    std::string name;  // "catalog", "queue": how answers name it (they name no path)
    std::string url;
  };
  // The files of the stores with `sqlite://` URLs; the others name no file of this machine.
  explicit StoreFilesWatch(const std::vector<Store>& stores);

  // What is wrong once a file is gone or another is in its place, logged the first time;
  // nullopt while every file is the one opened.
  std::optional<std::string> Lost();

 private:
  struct Watched {
    std::string name;
    std::filesystem::path path;
    dev_t device;
    ino_t inode;
  };
  std::vector<Watched> files_;
  std::atomic<bool> logged_ = false;
};

}  // namespace argus::cli
