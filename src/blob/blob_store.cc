#include "blob/blob_store.h"

#include <filesystem>
#include <string>

#include "blob/local_blob_store.h"
#include "blob/s3_blob_store.h"

namespace argus::blob {
namespace {

// A back end chosen by the scheme of "<scheme>://<rest>".
struct Backend {
  std::string_view scheme;
  std::string_view form;  // how its URLs look, for error messages
  Result<std::unique_ptr<BlobStore>> (*open)(std::string_view rest);
};

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

constexpr Backend kBackends[] = {
    {"file", "file:///abs/dir", OpenFileUrl},
    {"s3", "s3://[ACCESS:SECRET@]HOST[:PORT]/BUCKET[?region=R&scheme=http&addressing=virtual]",
     OpenS3Url},
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenBlobStore(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return OpenLocalBlobStore(std::filesystem::path(url));
  const std::string_view scheme = url.substr(0, scheme_end);
  for (const Backend& backend : kBackends) {
    if (scheme == backend.scheme) return backend.open(url.substr(scheme_end + 3));
  }
  // Only the scheme is quoted: the rest of a URL may hold credentials.
  std::string forms;
  for (const Backend& backend : kBackends) forms += std::string(backend.form) + ", ";
  return Fail(ErrorCode::kInvalidArgument, "unsupported blob store URL scheme \"" +
                                               std::string(scheme) + "\": use " + forms +
                                               "or a plain folder path");
}

}  // namespace argus::blob
