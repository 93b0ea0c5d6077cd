#include "image/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <format>
#include <string>
#include <system_error>

#include "common/file_descriptor.h"

namespace argus::image {
namespace {

std::string Reason(int error) { return std::generic_category().message(error); }

Error TooLarge(const std::filesystem::path& path, std::size_t max_bytes) {
  return Error{ErrorCode::kTooLarge,
               std::format("{} is larger than the limit of {} bytes", path.string(), max_bytes)};
}

}  // namespace

Result<std::vector<std::byte>> ReadFile(const std::filesystem::path& path, std::size_t max_bytes) {
  FileDescriptor file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.Get() < 0) {
    const int error = errno;
    return Fail(error == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                std::format("cannot open {}: {}", path.string(), Reason(error)));
  }
  struct stat info{};
  if (fstat(file.Get(), &info) != 0) {
    return Fail(ErrorCode::kIo, std::format("cannot stat {}: {}", path.string(), Reason(errno)));
  }
  // The size is only a hint for regular files (and absent for pipes): the read loop below
  // enforces the limit on what actually arrives.
  if (S_ISREG(info.st_mode) && static_cast<std::uintmax_t>(info.st_size) > max_bytes) {
    return std::unexpected(TooLarge(path, max_bytes));
  }

  // One byte past the expected end lets the first zero-length read confirm the end of file
  // without growing the buffer; files that grow while being read, and pipes, grow it.
  constexpr std::size_t kChunk = std::size_t{64} * 1024;
  const std::size_t expected =
      S_ISREG(info.st_mode) ? static_cast<std::size_t>(info.st_size) : kChunk;
  std::vector<std::byte> bytes(std::min(expected, max_bytes) + 1);
  std::size_t filled = 0;
  while (true) {
    if (filled == bytes.size()) {
      if (filled > max_bytes) {
        return std::unexpected(TooLarge(path, max_bytes));
      }
      bytes.resize(std::min(max_bytes, filled * 2) + 1);
    }
    const ssize_t n = read(file.Get(), bytes.data() + filled, bytes.size() - filled);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Fail(ErrorCode::kIo, std::format("cannot read {}: {}", path.string(), Reason(errno)));
    }
    if (n == 0) {
      break;
    }
    filled += static_cast<std::size_t>(n);
  }
  bytes.resize(filled);
  return bytes;
}

}  // namespace argus::image
