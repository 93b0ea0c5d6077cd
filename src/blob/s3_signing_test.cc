// Our S3 requests against AWS's published Signature Version 4 examples
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html and
// .../sigv4-query-string-auth.html). libcurl computes the Authorization header, so the
// requests go to a listener on 127.0.0.1 that records them, while their URLs name AWS's
// example host (CURLOPT_CONNECT_TO) and their x-amz-date is AWS's example date.

#include "blob/s3_signing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "blob/s3_client.h"
#include "common/sha256.h"

namespace argus::blob {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr std::string_view kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr std::chrono::sys_days kExampleDay = std::chrono::year(2013) / 5 / 24;

std::span<const std::byte> Bytes(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// The value of header `name` (any case) in a raw request, or "".
std::string HeaderOf(std::string_view request, std::string_view name) {
  std::size_t line = request.find("\r\n");
  while (line != std::string_view::npos && line + 2 < request.size()) {
    const std::size_t end = request.find("\r\n", line + 2);
    const std::string_view text = request.substr(line + 2, end - line - 2);
    if (text.empty()) break;  // the body starts
    const std::size_t colon = text.find(':');
    if (colon == name.size() && std::ranges::equal(text.substr(0, colon), name, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      std::string_view value = text.substr(colon + 1);
      while (value.starts_with(' ')) value.remove_prefix(1);
      return std::string(value);
    }
    line = end;
  }
  return "";
}

// Answers every request with an empty 200 and keeps the raw request (head and body).
class RecordingListener {
 public:
  RecordingListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~RecordingListener() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }

  int port() const { return port_; }
  std::vector<std::string> Requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void Serve() {
    while (true) {
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      std::string request = Read(client);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(std::move(request));
      }
      constexpr std::string_view kReply =
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(client, kReply.data(), kReply.size(), MSG_NOSIGNAL);
      ::close(client);
    }
  }

  static std::string Read(int client) {
    std::string data;
    char buffer[4096];
    std::size_t head_end = std::string::npos;
    std::size_t wanted = 0;
    while (head_end == std::string::npos || data.size() < wanted) {
      const ssize_t got = ::recv(client, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      data.append(buffer, static_cast<std::size_t>(got));
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          wanted =
              head_end + 4 + std::stoul("0" + HeaderOf(data.substr(0, head_end), "content-length"));
        }
      }
    }
    return data;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

S3ClientOptions AwsExample(std::string_view scheme, S3Addressing addressing, int port = 0) {
  return S3ClientOptions{
      .scheme = std::string(scheme),
      .host = "s3.amazonaws.com",
      .bucket = "examplebucket",
      .region = "us-east-1",
      .addressing = addressing,
      .credentials = {std::string(kAccessKey), std::string(kSecretKey)},
      .clock = [] { return std::chrono::system_clock::time_point(kExampleDay); },
      .connect_to = port == 0 ? "" : std::format("127.0.0.1:{}", port),
  };
}

// libcurl separates the Authorization header's components with ", " where AWS's examples
// use ","; S3 accepts both, and the separator is not signed. Everything else must match.
std::string AwsSpelling(std::string authorization) {
  for (std::size_t at = authorization.find(", "); at != std::string::npos;
       at = authorization.find(", ", at)) {
    authorization.erase(at + 1, 1);
  }
  return authorization;
}

class AwsHeaderExampleTest : public ::testing::Test {
 protected:
  // Sends `request` as the client of AWS's example bucket and returns what arrived.
  std::string SendAndRecord(const S3Request& request) {
    S3Client client(AwsExample("http", S3Addressing::kVirtualHost, listener_.port()));
    auto response = client.Send(request);
    EXPECT_EQ(response.transform([](const S3Response& r) { return r.status; }), 200)
        << (response ? "" : response.error().message);
    const auto requests = listener_.Requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? "" : requests.back();
  }

  RecordingListener listener_;
};

TEST_F(AwsHeaderExampleTest, GetObject) {
  const std::string sent =
      SendAndRecord({.method = "GET", .key = "test.txt", .headers = {"Range: bytes=0-9"}});
  EXPECT_TRUE(sent.starts_with("GET /test.txt HTTP/1.1\r\n")) << sent;
  EXPECT_EQ(HeaderOf(sent, "host"), "examplebucket.s3.amazonaws.com");
  EXPECT_EQ(HeaderOf(sent, "range"), "bytes=0-9");
  EXPECT_EQ(HeaderOf(sent, "x-amz-content-sha256"), kEmptySha256);
  EXPECT_EQ(HeaderOf(sent, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(AwsSpelling(HeaderOf(sent, "authorization")),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_F(AwsHeaderExampleTest, PutObject) {
  const std::string sent = SendAndRecord({
      .method = "PUT",
      .key = "test$file.text",
      .headers = {"Date: Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class: REDUCED_REDUNDANCY"},
      .body = Bytes("Welcome to Amazon S3."),
  });
  EXPECT_TRUE(sent.starts_with("PUT /test%24file.text HTTP/1.1\r\n")) << sent;
  EXPECT_TRUE(sent.ends_with("\r\n\r\nWelcome to Amazon S3.")) << sent;
  EXPECT_EQ(HeaderOf(sent, "x-amz-content-sha256"),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(AwsSpelling(HeaderOf(sent, "authorization")),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_F(AwsHeaderExampleTest, GetBucketLifecycle) {
  const std::string sent = SendAndRecord({.method = "GET", .query = {{"lifecycle", ""}}});
  EXPECT_TRUE(sent.starts_with("GET /?lifecycle HTTP/1.1\r\n")) << sent;
  EXPECT_EQ(AwsSpelling(HeaderOf(sent, "authorization")),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

// The parameters are given out of order: the signature is only right if we sort them.
TEST_F(AwsHeaderExampleTest, ListObjects) {
  const std::string sent =
      SendAndRecord({.method = "GET", .query = {{"prefix", "J"}, {"max-keys", "2"}}});
  EXPECT_TRUE(sent.starts_with("GET /?max-keys=2&prefix=J HTTP/1.1\r\n")) << sent;
  EXPECT_EQ(AwsSpelling(HeaderOf(sent, "authorization")),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(S3ClientTest, PathStyleNamesTheBucketInThePath) {
  RecordingListener listener;
  S3Client client(AwsExample("http", S3Addressing::kPath, listener.port()));
  ASSERT_TRUE(client.Send({.method = "HEAD", .key = "a/b.jpg"}));
  ASSERT_TRUE(client.Send({.method = "DELETE", .key = ""}));
  const auto sent = listener.Requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].starts_with("HEAD /examplebucket/a/b.jpg HTTP/1.1\r\n")) << sent[0];
  EXPECT_EQ(HeaderOf(sent[0], "host"), "s3.amazonaws.com");
  EXPECT_TRUE(sent[1].starts_with("DELETE /examplebucket HTTP/1.1\r\n")) << sent[1];
  EXPECT_EQ(HeaderOf(sent[1], "x-amz-content-sha256"), kEmptySha256);
}

TEST(S3ClientTest, PresignedUrlMatchesAwsExample) {
  const S3Client client(AwsExample("https", S3Addressing::kVirtualHost));
  EXPECT_EQ(client.PresignedGetUrl("test.txt", 86400s),
            "https://examplebucket.s3.amazonaws.com/test.txt"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(S3ClientTest, PresignedUrlSignsThePathStyleHostWithItsPort) {
  S3ClientOptions options = AwsExample("http", S3Addressing::kPath);
  options.host = "127.0.0.1:9000";
  EXPECT_EQ(S3Client(options).PresignedGetUrl("thumbnails/x.jpg", 60s),
            "http://127.0.0.1:9000/examplebucket/thumbnails/x.jpg?" +
                PresignedGetQuery(options.credentials, "us-east-1", "127.0.0.1:9000",
                                  "/examplebucket/thumbnails/x.jpg",
                                  std::chrono::system_clock::time_point(kExampleDay), 60s));
}

TEST(S3SigningTest, HashesPayloads) {
  EXPECT_EQ(Sha256Hex(std::span<const std::byte>()), kEmptySha256);
  EXPECT_EQ(Sha256Hex(Bytes("Welcome to Amazon S3.")),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(S3SigningTest, UriEncodesLikeS3) {
  EXPECT_EQ(UriEncode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b/c$d+é", false), "a%20b%2Fc%24d%2B%C3%A9");
  EXPECT_EQ(UriEncode("inputs/a b", true), "inputs/a%20b");
}

TEST(S3SigningTest, SortsAndEncodesQueries) {
  EXPECT_EQ(SortedQuery({}), "");
  EXPECT_EQ(SortedQuery({{"prefix", "a/b c"}, {"max-keys", "2"}, {"acl", ""}}),
            "acl&max-keys=2&prefix=a%2Fb%20c");
  // By name, then by value, on the encoded forms (as the canonical request compares them).
  EXPECT_EQ(SortedQuery({{"b", "2"}, {"a", "z"}, {"b", "1"}, {"A", "x"}}), "A=x&a=z&b=1&b=2");
}

TEST(S3SigningTest, FormatsAmzDates) {
  EXPECT_EQ(
      AmzTimestamp(std::chrono::system_clock::time_point(kExampleDay) + 13h + 5min + 7s + 999ms),
      "20130524T130507Z");
}

S3Response ResponseOf(long status, std::string_view body) {
  const auto bytes = Bytes(body);
  return {status, {bytes.begin(), bytes.end()}};
}

TEST(S3ResponseErrorTest, QuotesS3sCodeAndMessage) {
  const auto denied = ResponseOf(403,
                                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                                 "AccessDenied</Code><Message>Access &quot;Denied&quot; &amp; "
                                 "logged</Message><RequestId>1</RequestId></Error>");
  EXPECT_EQ(S3ErrorCode(denied), "AccessDenied");
  const Error error = ResponseError(denied, "S3 PUT s3://host/bucket/k");
  EXPECT_EQ(error.code, ErrorCode::kIo);
  EXPECT_EQ(error.message,
            "S3 PUT s3://host/bucket/k: HTTP 403 AccessDenied: Access \"Denied\" & logged");
}

TEST(S3ResponseErrorTest, MapsStatusesToCodes) {
  EXPECT_EQ(ResponseError(ResponseOf(503, "<Error><Code>SlowDown</Code></Error>"), "x").code,
            ErrorCode::kUnavailable);
  EXPECT_EQ(ResponseError(ResponseOf(500, ""), "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ResponseError(ResponseOf(429, ""), "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(ResponseError(ResponseOf(409, ""), "x").code, ErrorCode::kConflict);
  EXPECT_EQ(ResponseError(ResponseOf(400, ""), "x").code, ErrorCode::kIo);
  // Not S3's XML (a proxy's HTML page): the status alone.
  const Error error = ResponseError(ResponseOf(502, "<html>Bad Gateway</html>"), "x");
  EXPECT_EQ(error.message, "x: HTTP 502");
  EXPECT_THAT(
      ResponseError(ResponseOf(404, "<Error><Code>NoSuchBucket</Code></Error>"), "x").message,
      HasSubstr("NoSuchBucket"));
}

}  // namespace
}  // namespace argus::blob
