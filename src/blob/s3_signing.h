#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::blob {

// The parts of AWS Signature Version 4 that libcurl does not do for us: payload hashes,
// S3's URI encoding, sorted query strings and query-string authentication (presigned URLs).
// libcurl signs the Authorization header itself (CURLOPT_AWS_SIGV4).

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
};

// Name/value pairs, not encoded.
using QueryParameters = std::vector<std::pair<std::string, std::string>>;

// S3's UriEncode: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex); '/' is
// kept when `keep_slash` (an object key in a path).
std::string UriEncode(std::string_view text, bool keep_slash);

// "a=1&b=2": names and values URI-encoded, sorted by name then value as the canonical
// request wants (libcurl 7.x signed the query in the order given). A parameter with an
// empty value is written "name" as in S3's URLs ("?lifecycle"); libcurl canonicalises it
// as "name=", as AWS does.
std::string SortedQuery(const QueryParameters& parameters);

// "20130524T000000Z": the x-amz-date form of `time` (UTC).
std::string AmzTimestamp(std::chrono::system_clock::time_point time);

// The query string ("X-Amz-Algorithm=...&X-Amz-Signature=...") that lets anyone GET
// `canonical_uri` (already URI-encoded) from `host` (the Host header the client will send:
// with the port unless it is the scheme's default) until `expires` after `now`, following
// AWS's "Authenticating Requests: Using Query Parameters". Only the host header is signed
// and the payload is UNSIGNED-PAYLOAD, so any plain HTTP client can use the URL.
std::string PresignedGetQuery(const S3Credentials& credentials, std::string_view region,
                              std::string_view host, std::string_view canonical_uri,
                              std::chrono::system_clock::time_point now,
                              std::chrono::seconds expires);

}  // namespace argus::blob
