#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace argus::blob {

// Objects by key, like an S3 bucket: "inputs/<sha256>", "outputs/<sha256>.json",
// "thumbnails/<sha256>.jpg". Keys are relative paths of [A-Za-z0-9._-] segments separated
// by '/'; anything else (empty, "..", leading '/') is kInvalidArgument. Thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Readers see the previous object or the new one, never a part of either.
  virtual Result<void> Put(std::string_view key, std::span<const std::byte> data,
                           std::string_view content_type) = 0;
  // kNotFound when there is no such object.
  virtual Result<std::vector<std::byte>> Get(std::string_view key) = 0;
  // Deleting a missing object succeeds.
  virtual Result<void> Delete(std::string_view key) = 0;
  virtual Result<bool> Exists(std::string_view key) = 0;
};

// "file:///abs/dir" or a plain directory path: a local folder (created when missing).
Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url);

}  // namespace argus::blob
