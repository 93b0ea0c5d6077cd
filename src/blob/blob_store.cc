#include "blob/blob_store.h"

#include <filesystem>
#include <string>

#include "blob/local_blob_store.h"
#include "blob/s3_blob_store.h"
#include "common/backend_url.h"

namespace argus::blob {
namespace {

Result<std::unique_ptr<BlobStore>> OpenFileUrl(std::string_view path) {
  if (!path.starts_with('/')) {
    return Fail(ErrorCode::kInvalidArgument,
                "file:// blob store URLs take an absolute path: file:///abs/dir");
  }
  return OpenLocalBlobStore(std::filesystem::path(path));
}

Result<std::unique_ptr<BlobStore>> OpenS3Url(std::string_view rest) {
  auto options = ParseS3Url(rest);
  if (!options) return std::unexpected(options.error());
  return OpenS3BlobStore(std::move(*options));
}

using Backend = UrlBackend<Result<std::unique_ptr<BlobStore>> (*)(std::string_view rest)>;

constexpr Backend kBackends[] = {
    {"file", "file:///abs/dir (or a plain folder path)", OpenFileUrl},
    {"s3", "s3://[ACCESS:SECRET@]HOST[:PORT]/BUCKET[?region=R&scheme=http&addressing=virtual]",
     OpenS3Url},
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url) {
  if (!url.contains("://")) return OpenLocalBlobStore(std::filesystem::path(url));
  auto found = FindUrlBackend("blob store", url, kBackends);
  if (!found) return std::unexpected(found.error());
  return found->first->open(found->second);
}

}  // namespace argus::blob
