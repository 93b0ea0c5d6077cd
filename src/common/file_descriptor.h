#pragma once

#include <unistd.h>

#include <utility>

namespace argus {

// Owns a POSIX file descriptor: closes it on every way out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Negative when the call that made it failed.
  int Get() const { return fd_; }
  // Closes now, to see the error that a destructor would have to drop.
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

}  // namespace argus
