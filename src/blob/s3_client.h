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

#include "blob/s3_signing.h"
#include "common/error.h"
#include "common/silence_watch.h"

namespace argus::blob {

// Path style puts the bucket in the path (http://host/bucket/key) and works with every
// S3-compatible service; virtual-host style puts it in the host name
// (https://bucket.host/key), which AWS prefers.
enum class S3Addressing : std::uint8_t { kPath, kVirtualHost };

struct S3ClientOptions {
  std::string scheme;  // "https" or "http"
  std::string host;    // "s3.eu-west-1.amazonaws.com", "127.0.0.1:9000": no default port
  std::string bucket;
  std::string region;
  S3Addressing addressing = S3Addressing::kPath;
  S3Credentials credentials;
  // A request that has not finished by then (connecting included) fails as kUnavailable.
  std::chrono::milliseconds timeout{60'000};

  // For tests: the clock that dates requests, and "HOST:PORT" that every connection goes to
  // whatever host the URL names (so a test can sign for AWS's example host yet talk to a
  // local listener).
  std::function<std::chrono::system_clock::time_point()> clock = std::chrono::system_clock::now;
  std::string connect_to;
};

struct S3Request {
  std::string_view method;  // GET, HEAD, PUT or DELETE
  std::string_view key;     // not encoded; "" for the bucket itself
  QueryParameters query;
  std::vector<std::string> headers;  // "Name: value"
  std::span<const std::byte> body;   // PUT's payload, sent from this memory
};

struct S3Response {
  long status = 0;
  std::vector<std::byte> body;
};

// Requests to one bucket, signed with SigV4 by libcurl. Thread-safe: each request takes an
// idle curl handle from a pool (or makes one) and puts it back afterwards, so connections
// are reused without two threads ever sharing a handle.
class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;
  ~S3Client();

  // Any HTTP status is a response; only a failed exchange (no connection, timeout) is an
  // error, kUnavailable. Once a request has timed out (the server stopped answering), later
  // ones fail at once until the server answers a probe (SilenceWatch). Every request carries
  // x-amz-date from the clock and x-amz-content-sha256, the payload's hash: S3 requires it, and
  // libcurl would otherwise hash an empty body for uploads.
  Result<S3Response> Send(const S3Request& request);

  // A URL that GETs `key` (not checked) without credentials for `expires`.
  std::string PresignedGetUrl(std::string_view key, std::chrono::seconds expires) const;

  // "s3://host/bucket", to name the store in messages (never the credentials).
  std::string Name() const;

 private:
  struct HandlePool;

  // The Host header the bucket's requests carry, and the URI-encoded path of `key`.
  std::string HostOf() const;
  std::string PathOf(std::string_view key) const;
  // Sends `request` with `options`; `timed_out` says whether it failed for want of an answer.
  Result<S3Response> Exchange(const S3ClientOptions& options, const S3Request& request,
                              bool& timed_out);
  // Whether the server answers a small request now (run by silence_ while it is silent).
  bool Probe();

  const S3ClientOptions options_;
  const std::string sigv4_;  // CURLOPT_AWS_SIGV4
  const std::unique_ptr<HandlePool> pool_;
  const std::unique_ptr<SilenceWatch> silence_;  // last: its probes use the members above
};

// The error for a response that is not a success: S3's error code and message from the
// XML body when there is one. 429 and 5xx are kUnavailable (retry later), 409 kConflict,
// anything else kIo: the request was valid, so a rejection means the store is
// misconfigured (credentials, permissions, bucket).
Error ResponseError(const S3Response& response, std::string_view action);

// S3's answers are flat and small XML documents, read without an XML parser:
// The text of the first <name> element of `xml`, "" when there is none.
std::string_view ElementText(std::string_view xml, std::string_view name);
// `text` with XML's five predefined entities replaced by their characters.
std::string XmlUnescape(std::string_view text);
std::string_view BodyText(const S3Response& response);

// S3's error code ("NoSuchKey") from an error response's XML body, or "".
std::string S3ErrorCode(const S3Response& response);

}  // namespace argus::blob
