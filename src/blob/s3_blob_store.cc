#include "blob/s3_blob_store.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <format>
#include <functional>
#include <sstream>
#include <string>
#include <utility>

#include "blob/key.h"
#include "common/bytes.h"

namespace argus::blob {
namespace {

// S3 refuses presigned URLs that live longer than 7 days.
constexpr std::chrono::seconds kMaxPresignedExpiry = std::chrono::days(7);

std::unexpected<Error> BadUrl(std::string_view why) {
  return Fail(ErrorCode::kInvalidArgument, std::format("bad s3:// blob store URL: {}", why));
}

// S3's LastModified: "2026-12-07T23:10:49.000Z".
Result<std::chrono::system_clock::time_point> ParseTimestamp(std::string_view text) {
  std::chrono::sys_time<std::chrono::milliseconds> time;
  std::istringstream in{std::string(text)};
  in >> std::chrono::parse("%FT%T", time);
  if (in.fail()) {
    return Fail(ErrorCode::kIo, std::format("S3 listed an object written at \"{}\", which is not "
                                            "an ISO 8601 time",
                                            text));
  }
  return time;
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Decodes %XX; `what` names the part in messages, which never quote it (it may be secret).
Result<std::string> PercentDecode(std::string_view text, std::string_view what) {
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      plain += text[i];
      continue;
    }
    unsigned value = 0;
    const char* digits = text.data() + i + 1;
    if (i + 2 >= text.size() || std::from_chars(digits, digits + 2, value, 16).ptr != digits + 2) {
      return BadUrl(std::format("{} has a '%' that is not followed by two hex digits", what));
    }
    plain += static_cast<char>(value);
    i += 2;
  }
  return plain;
}

// S3's bucket naming rules (the ones every region enforces).
Result<void> ValidateBucket(std::string_view bucket) {
  const bool valid =
      bucket.size() >= 3 && bucket.size() <= 63 &&
      std::ranges::all_of(bucket, [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; }) &&
      IsLowerAlnum(bucket.front()) && IsLowerAlnum(bucket.back());
  if (!valid) {
    return BadUrl(
        std::format("bucket \"{}\" is not 3 to 63 characters of a-z 0-9 . - starting "
                    "and ending with a letter or digit",
                    bucket));
  }
  return {};
}

// HOST[:PORT] (or [IPv6][:PORT]) with the port dropped when it is the scheme's default, as
// clients leave it out of the Host header that presigned URLs sign.
Result<std::string> NormalHost(std::string_view authority, std::string_view scheme) {
  const std::size_t bracket = authority.rfind(']');
  const std::size_t colon = authority.rfind(':');
  std::string_view host = authority;
  std::string_view port;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  // A name or IPv4 address, or an IPv6 address in brackets.
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const std::string_view name = bracketed ? host.substr(1, host.size() - 2) : host;
  const bool host_ok = !name.empty() && std::ranges::all_of(name, [&](char c) {
    return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' ||
           (bracketed && c == ':');
  });
  unsigned port_number = 0;
  const bool port_ok =
      port.empty() || (std::from_chars(port.data(), port.data() + port.size(), port_number).ptr ==
                           port.data() + port.size() &&
                       port_number >= 1 && port_number <= 65535);
  if (!host_ok || !port_ok) {
    return BadUrl(std::format("\"{}\" is not HOST or HOST:PORT", authority));
  }
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
    return std::string(host);
  }
  return std::string(authority);
}

bool IsIpLiteral(std::string_view host) {
  return host.starts_with('[') || std::ranges::all_of(host, [](char c) {
           return (c >= '0' && c <= '9') || c == '.' || c == ':';
         });
}

Result<void> ApplyParameter(std::string_view name, std::string_view value,
                            S3ClientOptions& options) {
  if (name == "region") {
    if (value.empty() ||
        !std::ranges::all_of(value, [](char c) { return IsLowerAlnum(c) || c == '-'; })) {
      return BadUrl(std::format("region \"{}\" is not of a-z 0-9 -", value));
    }
    options.region = value;
  } else if (name == "scheme") {
    if (value != "https" && value != "http") return BadUrl("scheme is https or http");
    options.scheme = value;
  } else if (name == "addressing") {
    if (value != "path" && value != "virtual") return BadUrl("addressing is path or virtual");
    options.addressing = value == "path" ? S3Addressing::kPath : S3Addressing::kVirtualHost;
  } else if (name == "timeout") {
    int seconds = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (error != std::errc() || end != value.data() + value.size() || seconds < 1 ||
        seconds > 3600) {
      return BadUrl("timeout is a whole number of seconds from 1 to 3600");
    }
    options.timeout = std::chrono::seconds(seconds);
  } else {
    return BadUrl(
        std::format("unknown parameter \"{}\" (known: region, scheme, addressing, timeout)", name));
  }
  return {};
}

Result<S3Credentials> CredentialsOf(std::string_view userinfo, bool has_userinfo) {
  if (has_userinfo) {
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) return BadUrl("credentials are ACCESS:SECRET@");
    auto access = PercentDecode(userinfo.substr(0, colon), "the access key");
    if (!access) return std::unexpected(access.error());
    auto secret = PercentDecode(userinfo.substr(colon + 1), "the secret key");
    if (!secret) return std::unexpected(secret.error());
    if (access->empty() || secret->empty()) return BadUrl("credentials are ACCESS:SECRET@");
    return S3Credentials{std::move(*access), std::move(*secret)};
  }
  const char* access = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (access == nullptr || secret == nullptr || *access == '\0' || *secret == '\0') {
    return BadUrl(
        "no credentials: give s3://ACCESS:SECRET@HOST/BUCKET or set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY");
  }
  return S3Credentials{access, secret};
}

// Makes sure the bucket exists: lists at most zero keys (cheap, and unlike HEAD the answer
// says why S3 refuses), creates the bucket when S3 says there is none.
Result<void> EnsureBucket(S3Client& client, std::string_view region) {
  const S3Request list{.method = "GET", .query = {{"list-type", "2"}, {"max-keys", "0"}}};
  auto listed = client.Send(list);
  if (!listed) return std::unexpected(listed.error());
  if (listed->status == 200) return {};
  if (listed->status != 404 || S3ErrorCode(*listed) != "NoSuchBucket") {
    return std::unexpected(ResponseError(*listed, client.Name() + ": cannot list the bucket"));
  }
  // us-east-1 is S3's default location; elsewhere it wants the region in the body.
  std::string configuration;
  if (region != "us-east-1") {
    configuration = std::format(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
        region);
  }
  auto created = client.Send({.method = "PUT", .body = AsBytes(configuration)});
  if (!created) return std::unexpected(created.error());
  if (created->status == 200) return {};
  // 409: someone created it since the listing. S3 says BucketAlreadyOwnedByYou, s3rver
  // BucketAlreadyExists, which on S3 means another account's bucket: the listing decides.
  if (created->status == 409) {
    listed = client.Send(list);
    if (listed && listed->status == 200) return {};
  }
  return std::unexpected(ResponseError(*created, client.Name() + ": cannot create the bucket"));
}

class S3BlobStore final : public BlobStore {
 public:
  explicit S3BlobStore(std::unique_ptr<S3Client> client) : client_(std::move(client)) {}

  // S3 acknowledges a PUT only once it is stored: there is nothing more to wait for.
  Result<void> MakeDurable(std::string_view key) override { return ValidateKey(key); }

  // The service decides durability; S3 acknowledges a PUT only once it is stored.
  Result<void> Put(std::string_view key, std::span<const std::byte> data,
                   std::string_view content_type, Durability /*durability*/) override {
    if (auto valid = ValidateKey(key); !valid) return valid;
    // It becomes a header line: a line break would smuggle in headers of the caller's choice.
    if (std::ranges::any_of(content_type, [](char c) { return c < ' ' || c == '\x7f'; })) {
      return Fail(ErrorCode::kInvalidArgument, "content type has a control character");
    }
    const std::string type =
        content_type.empty() ? "application/octet-stream" : std::string(content_type);
    auto response = client_->Send(
        {.method = "PUT", .key = key, .headers = {"Content-Type: " + type}, .body = data});
    if (!response) return std::unexpected(response.error());
    if (response->status != 200)
      return std::unexpected(ResponseError(*response, Action("PUT", key)));
    return {};
  }

  Result<std::vector<std::byte>> Get(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    auto response = client_->Send({.method = "GET", .key = key});
    if (!response) return std::unexpected(response.error());
    if (response->status == 200) return std::move(response->body);
    if (IsMissingObject(*response)) {
      return Fail(ErrorCode::kNotFound, "no blob \"" + std::string(key) + "\"");
    }
    return std::unexpected(ResponseError(*response, Action("GET", key)));
  }

  Result<void> Delete(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return valid;
    auto response = client_->Send({.method = "DELETE", .key = key});
    if (!response) return std::unexpected(response.error());
    // S3 answers 204 for a missing key too; some compatible services answer 404.
    if (response->status == 204 || response->status == 200 || IsMissingObject(*response)) return {};
    return std::unexpected(ResponseError(*response, Action("DELETE", key)));
  }

  Result<bool> Exists(std::string_view key) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    auto response = client_->Send({.method = "HEAD", .key = key});
    if (!response) return std::unexpected(response.error());
    if (response->status == 200) return true;
    if (response->status == 404) return false;
    return std::unexpected(ResponseError(*response, Action("HEAD", key)));
  }

  // ListObjectsV2, a page of up to 1,000 keys at a time.
  Result<void> List(std::string_view folder,
                    const std::function<bool(const ListedObject&)>& visit) override {
    if (auto valid = ValidateFolder(folder); !valid) return valid;
    std::string continuation;
    do {
      QueryParameters query = {{"list-type", "2"}, {"prefix", std::string(folder)}};
      if (!continuation.empty()) query.emplace_back("continuation-token", continuation);
      auto response = client_->Send({.method = "GET", .query = std::move(query)});
      if (!response) return std::unexpected(response.error());
      if (response->status != 200) {
        return std::unexpected(ResponseError(*response, Action("GET (list)", folder)));
      }
      std::string_view rest = BodyText(*response);
      for (std::size_t at = rest.find("<Contents>"); at != std::string_view::npos;
           at = rest.find("<Contents>")) {
        rest.remove_prefix(at);
        const std::size_t end = rest.find("</Contents>");
        if (end == std::string_view::npos) break;
        const std::string_view contents = rest.substr(0, end);
        rest.remove_prefix(end);
        auto written = ParseTimestamp(ElementText(contents, "LastModified"));
        if (!written) return std::unexpected(written.error());
        if (!visit({.key = XmlUnescape(ElementText(contents, "Key")), .written = *written})) {
          return {};
        }
      }
      const std::string_view body = BodyText(*response);
      continuation = ElementText(body, "IsTruncated") == "true"
                         ? XmlUnescape(ElementText(body, "NextContinuationToken"))
                         : "";
    } while (!continuation.empty());
    return {};
  }

  Result<std::string> PresignedGetUrl(std::string_view key, std::chrono::seconds expires) override {
    if (auto valid = ValidateKey(key); !valid) return std::unexpected(valid.error());
    if (expires < std::chrono::seconds(1) || expires > kMaxPresignedExpiry) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::format("presigned URLs last from 1 to {} seconds, not {}",
                              kMaxPresignedExpiry.count(), expires.count()));
    }
    return client_->PresignedGetUrl(key, expires);
  }

  Result<std::string> LocalFileOf(std::string_view /*key*/) override {
    return Fail(ErrorCode::kInvalidArgument, "an S3 bucket's objects are not local files");
  }

 private:
  // A 404 about the key; NoSuchBucket means the store itself is gone, which callers must not
  // mistake for a missing object.
  static bool IsMissingObject(const S3Response& response) {
    return response.status == 404 && S3ErrorCode(response) != "NoSuchBucket";
  }

  std::string Action(std::string_view method, std::string_view key) const {
    return std::format("S3 {} {}/{}", method, client_->Name(), key);
  }

  const std::unique_ptr<S3Client> client_;
};

}  // namespace

Result<S3ClientOptions> ParseS3Url(std::string_view rest) {
  S3ClientOptions options{.scheme = "https", .region = "us-east-1"};
  // Credentials first, up to the last '@': a secret may hold '/', '?' or '@' that were not
  // percent-encoded, and no part after them can hold an '@'. Nothing before it is quoted.
  const std::size_t at = rest.rfind('@');
  auto credentials = CredentialsOf(rest.substr(0, at == std::string_view::npos ? 0 : at),
                                   at != std::string_view::npos);
  if (!credentials) return std::unexpected(credentials.error());
  options.credentials = std::move(*credentials);
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);

  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    std::string_view query = rest.substr(question + 1);
    rest = rest.substr(0, question);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view parameter = query.substr(0, amp);
      const std::size_t equals = parameter.find('=');
      if (equals == std::string_view::npos) {
        return BadUrl(std::format("parameter \"{}\" has no value", parameter));
      }
      if (auto applied =
              ApplyParameter(parameter.substr(0, equals), parameter.substr(equals + 1), options);
          !applied) {
        return std::unexpected(applied.error());
      }
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }

  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return BadUrl("no bucket: s3://HOST/BUCKET");
  std::string_view bucket = rest.substr(slash + 1);
  if (bucket.ends_with('/')) bucket.remove_suffix(1);
  if (auto valid = ValidateBucket(bucket); !valid) return std::unexpected(valid.error());
  options.bucket = bucket;

  auto host = NormalHost(rest.substr(0, slash), options.scheme);
  if (!host) return std::unexpected(host.error());
  options.host = std::move(*host);
  if (options.addressing == S3Addressing::kVirtualHost && IsIpLiteral(options.host)) {
    return BadUrl("virtual-host addressing needs a host name, not an IP address");
  }
  return options;
}

Result<std::unique_ptr<BlobStore>> OpenS3BlobStore(S3ClientOptions options) {
  const std::string region = options.region;
  auto client = std::make_unique<S3Client>(std::move(options));
  if (auto ready = EnsureBucket(*client, region); !ready) return std::unexpected(ready.error());
  return std::make_unique<S3BlobStore>(std::move(client));
}

}  // namespace argus::blob
