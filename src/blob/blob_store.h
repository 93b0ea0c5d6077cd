#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace argus::blob {

// What a stored object must survive once Put returns.
enum class Durability : std::uint8_t {
  // A power loss: the object is the only copy of something (an uploaded image).
  kPowerLoss,
  // A crash of the process, not necessarily of the machine: the object is derived from
  // data kept elsewhere and can be made again (a result copied from the catalog, a
  // thumbnail), so it skips the flushes to stable storage that dominate small writes.
  kRecreatable,
};

struct ListedObject {
  std::string key;
  std::chrono::system_clock::time_point written;  // when the object was last put
};

// Objects by key, like an S3 bucket: "inputs/<sha256>", "outputs/<sha256>.json",
// "thumbnails/<sha256>.jpg". Keys are relative paths of [A-Za-z0-9._-] segments separated
// by '/'; anything else (empty, "..", leading '/') is kInvalidArgument. Thread-safe.
class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Readers see the previous object or the new one, never a part of either.
  virtual Result<void> Put(std::string_view key, std::span<const std::byte> data,
                           std::string_view content_type, Durability durability) = 0;
  // Gives an object written kRecreatable the durability of kPowerLoss, so that a caller can
  // let others read it first and wait for stable storage later. Stores whose writes are
  // durable when Put returns (S3) do nothing; a local folder says kNotFound when there is
  // no such object.
  virtual Result<void> MakeDurable(std::string_view key) = 0;
  // kNotFound when there is no such object.
  virtual Result<std::vector<std::byte>> Get(std::string_view key) = 0;
  // Deleting a missing object succeeds.
  virtual Result<void> Delete(std::string_view key) = 0;
  virtual Result<bool> Exists(std::string_view key) = 0;
  // Calls `visit` with each object whose key starts with `folder` ("inputs/"; "" for all),
  // in no particular order, until it returns false. An object put or deleted meanwhile may
  // or may not be visited.
  virtual Result<void> List(std::string_view folder,
                            const std::function<bool(const ListedObject&)>& visit) = 0;
  // A URL that lets anyone GET the object for `expires` without credentials, so clients can
  // fetch files and thumbnails from the store directly. The object need not exist yet.
  // kInvalidArgument when the store cannot make one (a local folder) or `expires` is not
  // between 1 s and 7 days (S3's limit).
  virtual Result<std::string> PresignedGetUrl(std::string_view key,
                                              std::chrono::seconds expires) = 0;
  // The file that holds the object, for stores on this machine's file system, so that it
  // can be sent without being read into memory (sendfile). kInvalidArgument for stores
  // elsewhere (S3); the object need not exist.
  virtual Result<std::string> LocalFileOf(std::string_view key) = 0;
};

// By URL:
// - "file:///abs/dir" or a plain directory path: a local folder (created when missing).
// - "s3://[ACCESS:SECRET@]HOST[:PORT]/BUCKET[?region=us-east-1&scheme=https|http
//   &addressing=path|virtual&timeout=SECONDS]": a bucket of an S3-compatible service,
//   created when missing; credentials default to AWS_ACCESS_KEY_ID and
//   AWS_SECRET_ACCESS_KEY (see s3_blob_store.h).
Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url);

}  // namespace argus::blob
