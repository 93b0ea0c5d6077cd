#include "blob/key.h"

#include <format>
#include <string>

namespace argus::blob {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

Result<void> ValidateKey(std::string_view key) {
  if (key.empty()) return Fail(ErrorCode::kInvalidArgument, "blob key is empty");
  if (key.size() > kMaxKeyBytes) {
    return Fail(
        ErrorCode::kInvalidArgument,
        std::format("blob key is {} bytes long, the limit is {}", key.size(), kMaxKeyBytes));
  }
  // Characters first, so the messages below can quote the key verbatim.
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (!IsKeyChar(key[i]) && key[i] != '/') {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("blob key has byte 0x{:02x} at offset {}: keys are segments of "
                              "[A-Za-z0-9._-] separated by '/'",
                              static_cast<unsigned char>(key[i]), i));
    }
  }
  std::string_view rest = key;
  while (true) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("blob key \"{}\" has an empty, \".\" or \"..\" segment: keys are "
                              "relative paths without a leading, trailing or doubled '/'",
                              key));
    }
    if (segment.size() > kMaxKeySegmentBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("blob key \"{}\" has a segment longer than {} bytes", key,
                              kMaxKeySegmentBytes));
    }
    if (slash == std::string_view::npos) return {};
    rest.remove_prefix(slash + 1);
  }
}

Result<void> ValidateFolder(std::string_view folder) {
  if (folder.empty()) return {};
  if (!folder.ends_with('/')) {
    return Fail(ErrorCode::kInvalidArgument,
                std::format("blob folder \"{}\" does not end with '/'", folder));
  }
  return ValidateKey(folder.substr(0, folder.size() - 1));
}

}  // namespace argus::blob
