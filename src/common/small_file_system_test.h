#pragma once

// Test-only: a file system of a few kilobytes (tmpfs) mounted on a folder for the object's
// life, for filling a disk on purpose. Mounting needs root: the build root runs the tests as
// root in a mount namespace of their own; elsewhere mounted() is false and error() says why.

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

namespace argus {

class SmallFileSystem {
 public:
  // `size` as tmpfs takes it: "64k", "1m". `flags`: mount(2)'s, e.g. MS_RDONLY.
  SmallFileSystem(std::filesystem::path where, const std::string& size, unsigned long flags = 0)
      : where_(std::move(where)) {
    std::filesystem::create_directories(where_);
    mounted_ = ::mount("tmpfs", where_.c_str(), "tmpfs", flags, ("size=" + size).c_str()) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~SmallFileSystem() {
    if (mounted_) Unmount();
  }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Whether it came off; the destructor does it otherwise.
  bool Unmount() {
    mounted_ = false;
    return ::umount2(where_.c_str(), MNT_DETACH) == 0;
  }

 private:
  std::filesystem::path where_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace argus
