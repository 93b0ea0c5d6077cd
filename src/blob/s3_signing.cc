#include "blob/s3_signing.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <format>

#include "common/sha256.h"

namespace argus::blob {
namespace {

// HMAC-SHA256 with a key of any length: the first key of the chain is "AWS4" + secret.
Sha256Digest HmacSha256(std::span<const unsigned char> key, std::string_view message) {
  Sha256Digest mac;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), nullptr);
  return mac;
}

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  std::string encoded;
  encoded.reserve(text.size());
  for (char c : text) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      encoded += c;
    } else {
      encoded += std::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return encoded;
}

std::string SortedQuery(const QueryParameters& parameters) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(parameters.size());
  for (const auto& [name, value] : parameters) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::ranges::sort(encoded);
  std::string query;
  for (const auto& [name, value] : encoded) {
    if (!query.empty()) query += '&';
    query += name;
    if (!value.empty()) query += "=" + value;
  }
  return query;
}

std::string AmzTimestamp(std::chrono::system_clock::time_point time) {
  return std::format("{:%Y%m%dT%H%M%SZ}", std::chrono::floor<std::chrono::seconds>(time));
}

std::string PresignedGetQuery(const S3Credentials& credentials, std::string_view region,
                              std::string_view host, std::string_view canonical_uri,
                              std::chrono::system_clock::time_point now,
                              std::chrono::seconds expires) {
  const std::string timestamp = AmzTimestamp(now);
  const std::string date = timestamp.substr(0, 8);
  const std::string scope = std::format("{}/{}/s3/aws4_request", date, region);
  // Written in sorted order; of the values only the credential needs encoding (its '/').
  const std::string query = std::format(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires={}"
      "&X-Amz-SignedHeaders=host",
      UriEncode(credentials.access_key + "/" + scope, false), timestamp, expires.count());
  const std::string canonical_request =
      std::format("GET\n{}\n{}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD", canonical_uri, query, host);
  const std::string string_to_sign =
      std::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", timestamp, scope, Sha256Hex(canonical_request));

  const std::string secret = "AWS4" + credentials.secret_key;
  Sha256Digest key = HmacSha256(
      std::span(reinterpret_cast<const unsigned char*>(secret.data()), secret.size()), date);
  for (std::string_view part : {region, std::string_view("s3"), std::string_view("aws4_request")}) {
    key = HmacSha256(key, part);
  }
  return query + "&X-Amz-Signature=" + LowerHex(HmacSha256(key, string_to_sign));
}

}  // namespace argus::blob
