#include "blob/local_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <format>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "blob/key.h"
#include "common/file_descriptor.h"

namespace argus::blob {
namespace {

Error SystemError(int error, std::string_view action, const std::string& path) {
  // The file system's view of keys: a file where a folder is needed or the reverse.
  const bool conflict = error == ENOTDIR || error == EISDIR || error == EEXIST;
  const bool full = error == ENOSPC || error == EDQUOT;
  // Out of descriptors or kernel memory: passes once other requests end.
  const bool busy = error == EMFILE || error == ENFILE || error == ENOMEM;
  return Error{conflict ? ErrorCode::kConflict
               : full   ? ErrorCode::kNoSpace
               : busy   ? ErrorCode::kUnavailable
                        : ErrorCode::kIo,
               std::format("blob store: cannot {} {}: {}", action, path,
                           std::generic_category().message(error))};
}

bool IsMissing(int error) { return error == ENOENT || error == ENOTDIR; }

std::string RandomSuffix() {
  // Seeded once per thread: a std::random_device for every file showed in upload profiles.
  thread_local std::mt19937_64 random{(std::uint64_t{std::random_device()()} << 32) |
                                      std::random_device()()};
  return std::format("{:016x}", random());
}

Result<void> SyncFolder(const std::string& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.Get() < 0 || ::fsync(fd.Get()) != 0) {
    return std::unexpected(SystemError(errno, "sync folder", folder));
  }
  return {};
}

Result<void> WriteAll(int fd, std::span<const std::byte> data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(SystemError(errno, "write", path));
    }
    data = data.subspan(static_cast<std::size_t>(written));
  }
  return {};
}

// Writes `data` to a new file `temp`, made durable as asked before anyone can see it.
Result<void> WriteFile(const std::string& temp, std::span<const std::byte> data,
                       Durability durability) {
  FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
  if (fd.Get() < 0) return std::unexpected(SystemError(errno, "create", temp));
  if (auto written = WriteAll(fd.Get(), data, temp); !written) return written;
  if (durability == Durability::kPowerLoss && ::fsync(fd.Get()) != 0) {
    return std::unexpected(SystemError(errno, "sync", temp));
  }
  if (fd.Close() != 0) return std::unexpected(SystemError(errno, "close", temp));
  return {};
}

class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}

  Result<void> Put(std::string_view key, std::span<const std::byte> data,
                   std::string_view /*content_type*/, Durability durability) override {
    if (auto valid = ValidateKey(key); !valid) return valid;
    if (auto made = MakeFolders(key); !made) return made;
    const std::string path = PathOf(key);
    const std::size_t slash = path.rfind('/');
    const std::string folder = path.substr(0, slash);
    const std::string temp =
        std::format("{}/.{}~{}", folder, path.substr(slash + 1), RandomSuffix());
    auto written = WriteFile(temp, data, durability);
    if (written && ::rename(temp.c_str(), path.c_str()) != 0) {
      written = std::unexpected(SystemError(errno, "replace", path));
    }
    if (!written) {
      ::unlink(temp.c_str());
      return written;
    }
    return durability == Durability::kPowerLoss ? SyncFolder(folder) : Result<void>();
  }

  Result<std::vector<std::byte>> Get(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    const std::string path = PathOf(key);
    // The descriptor pins the file: a concurrent Put renames a new file over the name and
    // leaves this one whole.
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat info{};
    if (fd.Get() < 0 || ::fstat(fd.Get(), &info) != 0) {
      const int error = errno;
      if (IsMissing(error)) return NotFound(key);
      return std::unexpected(SystemError(error, "read", path));
    }
    if (!S_ISREG(info.st_mode)) return NotFound(key);
    std::vector<std::byte> data(static_cast<std::size_t>(info.st_size));
    std::size_t filled = 0;
    while (filled < data.size()) {
      const ssize_t got = ::read(fd.Get(), data.data() + filled, data.size() - filled);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return std::unexpected(SystemError(errno, "read", path));
      if (got == 0) {
        return Fail(ErrorCode::kIo, "blob store: " + path + " was truncated while reading");
      }
      filled += static_cast<std::size_t>(got);
    }
    return data;
  }

  Result<void> Delete(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return valid;
    const std::string path = PathOf(key);
    // EISDIR: the key names a folder of other keys, so there is no such object.
    if (::unlink(path.c_str()) != 0 && !IsMissing(errno) && errno != EISDIR) {
      return std::unexpected(SystemError(errno, "delete", path));
    }
    return {};
  }

  Result<void> MakeDurable(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return valid;
    const std::string path = PathOf(key);
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.Get() < 0) {
      if (IsMissing(errno)) return NotFound(key);
      return std::unexpected(SystemError(errno, "open", path));
    }
    if (::fsync(fd.Get()) != 0) return std::unexpected(SystemError(errno, "sync", path));
    return SyncFolder(path.substr(0, path.rfind('/')));
  }

  Result<bool> Exists(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    const std::string path = PathOf(key);
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0) {
      if (IsMissing(errno)) return false;
      return std::unexpected(SystemError(errno, "look up", path));
    }
    return S_ISREG(info.st_mode);
  }

  Result<void> List(std::string_view folder,
                    const std::function<bool(const ListedObject&)>& visit) override {
    if (auto valid = ValidateFolder(folder); !valid) return valid;
    namespace fs = std::filesystem;
    const fs::path root(root_.empty() ? "/" : root_);
    std::error_code error;
    fs::recursive_directory_iterator entry(root / folder, error);
    if (error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory) {
      return {};
    }
    for (; !error && entry != fs::recursive_directory_iterator(); entry.increment(error)) {
      const bool regular = entry->is_regular_file(error);
      // Deleted since it was found.
      if (error) {
        error.clear();
        continue;
      }
      if (!regular) continue;
      const std::string key = entry->path().lexically_relative(root).string();
      // Temporary files of a Put under way, or of one a crash cut short, are no objects.
      if (!ValidateKey(key)) continue;
      const auto written = entry->last_write_time(error);
      if (error) {
        error.clear();
        continue;
      }
      if (!visit({.key = key,
                  .written = std::chrono::clock_cast<std::chrono::system_clock>(written)})) {
        return {};
      }
    }
    if (error)
      return std::unexpected(SystemError(error.value(), "list", root_ + "/" + std::string(folder)));
    return {};
  }

  Result<std::string> PresignedGetUrl(std::string_view /*key*/,
                                      std::chrono::seconds /*expires*/) override {
    return Fail(ErrorCode::kInvalidArgument, "presigned URLs need an S3 blob store");
  }

  Result<std::string> LocalFileOf(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    return PathOf(key);
  }

 private:
  std::string PathOf(std::string_view key) const { return root_ + "/" + std::string(key); }

  static std::unexpected<Error> NotFound(std::string_view key) {
    return Fail(ErrorCode::kNotFound, "no blob \"" + std::string(key) + "\"");
  }

  // Creates the folders of `key` below the root. A new folder's entry in its parent is
  // synced too, or a power loss could orphan the objects put into it.
  Result<void> MakeFolders(std::string_view key) const {
    for (std::size_t slash = key.find('/'); slash != std::string_view::npos;
         slash = key.find('/', slash + 1)) {
      const std::string folder = PathOf(key.substr(0, slash));
      if (::mkdir(folder.c_str(), 0777) == 0) {
        if (auto synced = SyncFolder(folder.substr(0, folder.rfind('/'))); !synced) return synced;
      } else if (errno != EEXIST) {
        return std::unexpected(SystemError(errno, "create folder", folder));
      }
    }
    return {};
  }

  const std::string root_;  // absolute, without a trailing '/' ("" for the file system root)
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::filesystem::path& root) {
  if (root.empty()) return Fail(ErrorCode::kInvalidArgument, "blob store folder is empty");
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(root, error);
  if (!error) std::filesystem::create_directories(absolute, error);
  if (error) {
    return Fail(ErrorCode::kIo, std::format("cannot create blob store folder {}: {}", root.string(),
                                            error.message()));
  }
  if (!std::filesystem::is_directory(absolute, error)) {
    return Fail(ErrorCode::kIo,
                std::format("blob store folder {} is not a folder", absolute.string()));
  }
  std::string normal = absolute.lexically_normal().string();
  while (normal.ends_with('/')) normal.pop_back();
  return std::make_unique<LocalBlobStore>(std::move(normal));
}

}  // namespace argus::blob
