#pragma once

#include <memory>
#include <string_view>

#include "blob/blob_store.h"
#include "blob/s3_client.h"
#include "common/error.h"

namespace argus::blob {

// The options in `rest`, an s3:// URL without its scheme:
//
//   [ACCESS:SECRET@]HOST[:PORT]/BUCKET[?region=R&scheme=https|http&addressing=path|virtual
//                                      &timeout=SECONDS]
//
// Credentials are percent-decoded (a '/' in a secret is %2F); without them the URL takes
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment. Defaults: region
// us-east-1, scheme https, addressing path (every S3-compatible service supports it),
// timeout 60 s per request. Error messages never quote the credentials.
Result<S3ClientOptions> ParseS3Url(std::string_view rest);

// A BlobStore over one bucket of an S3-compatible service (AWS S3, MinIO, Ceph, s3rver).
//
// Opening checks the bucket (a one-key listing, so S3 says why it refuses: unreachable
// endpoint, wrong credentials) and creates it when it does not exist, so the credentials
// need s3:ListBucket, and s3:CreateBucket for a new bucket. S3 replaces objects atomically,
// as BlobStore promises; objects are single PUTs (S3's limit: 5 GB), their content type is
// kept. Exists cannot tell a missing bucket from a missing object (HEAD has no error body);
// Get and Put can, and report a missing bucket as kIo.
Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(S3ClientOptions options);

}  // namespace argus::blob
