#include "cli/store_files_watch.h"

#include <sys/stat.h>

#include <string_view>

#include "common/log.h"

namespace argus::cli {

StoreFilesWatch::StoreFilesWatch(const std::vector<Store>& stores) {
  constexpr std::string_view kSqlite = "sqlite://";
  for (const Store& store : stores) {
    if (!store.url.starts_with(kSqlite)) continue;
    const std::filesystem::path path = store.url.substr(kSqlite.size());
    struct stat status{};
    if (::stat(path.c_str(), &status) == 0) {
      files_.push_back(
          {.name = store.name, .path = path, .device = status.st_dev, .inode = status.st_ino});
    }
  }
}

std::optional<std::string> StoreFilesWatch::Lost() {
  for (const Watched& file : files_) {
    struct stat status{};
    if (::stat(file.path.c_str(), &status) == 0 && status.st_dev == file.device &&
        status.st_ino == file.inode) {
      continue;
    }
    if (!logged_.exchange(true)) {
      LogLine("error", "web",
              file.path.string() +
                  " was removed or replaced under the running service: uploads are refused, "
                  "since what they stored would be gone at the next start; stop the service, "
                  "restore the file (or move the data directory aside) and start it again");
    }
    return "the " + file.name + "'s file was removed or replaced under the running service";
  }
  return std::nullopt;
}

}  // namespace argus::cli
