#include "blob/s3_blob_store.h"

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <format>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blob/s3rver_for_tests.h"

namespace argus::blob {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::byte> Bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

// A loopback port that was free a moment ago.
int FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Sets (or with nullptr unsets) an environment variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value == nullptr) {
      ::unsetenv(name);
    } else {
      ::setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ParseS3UrlTest, ReadsEveryPart) {
  auto options = ParseS3Url(
      "AK:se%2Fcret@minio.local:9000/my-bucket?region=eu-west-1&scheme=http&addressing=virtual"
      "&timeout=5");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->credentials.access_key, "AK");
  EXPECT_EQ(options->credentials.secret_key, "se/cret");
  EXPECT_EQ(options->host, "minio.local:9000");
  EXPECT_EQ(options->bucket, "my-bucket");
  EXPECT_EQ(options->region, "eu-west-1");
  EXPECT_EQ(options->scheme, "http");
  EXPECT_EQ(options->addressing, S3Addressing::kVirtualHost);
  EXPECT_EQ(options->timeout, 5s);
}

TEST(ParseS3UrlTest, DefaultsToHttpsPathStyleInUsEast1) {
  auto options = ParseS3Url("AK:SK@s3.amazonaws.com:443/bucket/");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->scheme, "https");
  EXPECT_EQ(options->host, "s3.amazonaws.com") << "the default port is left out, as in Host";
  EXPECT_EQ(options->bucket, "bucket");
  EXPECT_EQ(options->region, "us-east-1");
  EXPECT_EQ(options->addressing, S3Addressing::kPath);
  EXPECT_EQ(options->timeout, 60s);
  EXPECT_EQ(ParseS3Url("AK:SK@[::1]:80/bucket?scheme=http")->host, "[::1]");
  EXPECT_EQ(ParseS3Url("AK:SK@[::1]:9000/bucket")->host, "[::1]:9000");
}

TEST(ParseS3UrlTest, TakesSecretsWithUnencodedSlashesAndAts) {
  auto options = ParseS3Url("AK:a/b@c?d@host/bucket");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->credentials.secret_key, "a/b@c?d");
  EXPECT_EQ(options->host, "host");
}

TEST(ParseS3UrlTest, TakesCredentialsFromTheEnvironment) {
  const ScopedEnv access("AWS_ACCESS_KEY_ID", "ENVAK");
  const ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "ENVSK");
  auto options = ParseS3Url("host/bucket");
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_EQ(options->credentials.access_key, "ENVAK");
  EXPECT_EQ(options->credentials.secret_key, "ENVSK");
  EXPECT_EQ(ParseS3Url("AK:SK@host/bucket")->credentials.access_key, "AK") << "the URL wins";
}

TEST(ParseS3UrlTest, WantsCredentials) {
  const ScopedEnv access("AWS_ACCESS_KEY_ID", nullptr);
  const ScopedEnv secret("AWS_SECRET_ACCESS_KEY", nullptr);
  auto options = ParseS3Url("host/bucket");
  ASSERT_FALSE(options);
  EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(options.error().message, HasSubstr("AWS_ACCESS_KEY_ID"));
}

TEST(ParseS3UrlTest, RejectsBadUrlsWithoutQuotingTheSecret) {
  for (std::string_view rest : {"AK:TOPSECRET@host",
                                "AK:TOPSECRET@host/",
                                "AK:TOPSECRET@host/Upper",
                                "AK:TOPSECRET@host/ab",
                                "AK:TOPSECRET@host/bucket/prefix",
                                "AK:TOPSECRET@host/-bucket",
                                "AK:TOPSECRET@/bucket",
                                "AK:TOPSECRET@host:0/bucket",
                                "AK:TOPSECRET@host:x/bucket",
                                "AK:TOPSECRET@host:1:2/bucket",
                                "AK:TOPSECRET@[]:9000/bucket",
                                "AK:TOPSECRET@ho st/bucket",
                                "AK:TOPSECRET@host/bucket?regoin=x",
                                "AK:TOPSECRET@host/bucket?scheme=ftp",
                                "AK:TOPSECRET@host/bucket?addressing=vhost",
                                "AK:TOPSECRET@host/bucket?timeout=0",
                                "AK:TOPSECRET@host/bucket?timeout=1h",
                                "AK:TOPSECRET@host/bucket?region=",
                                "AK:TOPSECRET@host/bucket?region",
                                "AK:TOPSECRET@10.0.0.1:9000/bucket?addressing=virtual",
                                "AKTOPSECRET@host/bucket",
                                "AK:TOPSECRET%2@host/bucket",
                                "AK:@host/bucket",
                                ":TOPSECRET@host/bucket"}) {
    SCOPED_TRACE(rest);
    auto options = ParseS3Url(rest);
    ASSERT_FALSE(options);
    EXPECT_EQ(options.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(options.error().message, Not(HasSubstr("TOPSECRET")));
  }
}

class S3BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = SharedS3rver();
    ASSERT_TRUE(server) << server.error().message;
    server_ = *server;
  }

  std::unique_ptr<BlobStore> Open(const std::string& url) {
    auto store = OpenBlobStore(url);
    EXPECT_TRUE(store) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }

  S3rver* server_ = nullptr;
};

TEST_F(S3BlobStoreTest, PresignedUrlsServeObjectsToPlainClients) {
  for (const bool virtual_host : {false, true}) {
    SCOPED_TRACE(virtual_host ? "virtual-host" : "path-style");
    auto store = Open(server_->Url(NewBucketName(), virtual_host));
    ASSERT_TRUE(store);
    const std::string jpeg("\xff\xd8\xff\xe0 not quite a JPEG \0\x01", 24);
    ASSERT_TRUE(
        store->Put("thumbnails/0123abcdef.jpg", Bytes(jpeg), "image/jpeg", Durability::kPowerLoss));
    auto url = store->PresignedGetUrl("thumbnails/0123abcdef.jpg", 60s);
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_THAT(*url, HasSubstr("X-Amz-Expires=60&"));
    const PlainResponse got = PlainGet(*url);
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, jpeg);
    EXPECT_EQ(got.content_type, "image/jpeg") << "Put keeps the content type";
  }
}

TEST_F(S3BlobStoreTest, PresignedUrlsLastOneSecondToSevenDays) {
  auto store = Open(server_->Url(NewBucketName(), false));
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->PresignedGetUrl("k", 1s));
  EXPECT_TRUE(store->PresignedGetUrl("k", std::chrono::days(7)));
  for (std::chrono::seconds expires : {0s, -5s, std::chrono::seconds(std::chrono::days(7)) + 1s}) {
    auto url = store->PresignedGetUrl("k", expires);
    ASSERT_FALSE(url);
    EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(S3BlobStoreTest, CreatesAMissingBucketOnceAndKeepsItsObjects) {
  const std::string url = server_->Url(NewBucketName(), false);
  {
    auto store = Open(url);
    ASSERT_TRUE(store);
    ASSERT_TRUE(
        store->Put("outputs/a.json", Bytes("{}"), "application/json", Durability::kPowerLoss));
  }
  auto reopened = Open(url);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->Get("outputs/a.json").value(), Bytes("{}"));
}

TEST_F(S3BlobStoreTest, CreatesBucketsOutsideUsEast1) {
  auto store = Open(server_->Url(NewBucketName(), false) + "&region=eu-west-1");
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->Put("k", Bytes("v"), "", Durability::kPowerLoss));
}

// Processes starting together all find the bucket missing; one creates it, the others
// get 409 and must still open.
TEST_F(S3BlobStoreTest, ConcurrentOpensOfANewBucketAllSucceed) {
  const std::string url = server_->Url(NewBucketName(), false);
  constexpr int kProcesses = 6;
  std::vector<std::thread> threads;
  threads.reserve(kProcesses);
  std::atomic<int> failures = 0;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&] {
      if (auto store = OpenBlobStore(url); !store) {
        ADD_FAILURE() << store.error().message;
        ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
}

TEST_F(S3BlobStoreTest, ReportsS3sErrorCodeWithoutTheSecret) {
  auto store = OpenBlobStore(std::format("s3://NOT-S3RVER:TOPSECRET@127.0.0.1:{}/{}?scheme=http",
                                         server_->port(), NewBucketName()));
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr("HTTP 403 InvalidAccessKeyId"));
  EXPECT_THAT(store.error().message, Not(HasSubstr("TOPSECRET")));
}

// A missing bucket is the store's failure, never "no such object".
TEST_F(S3BlobStoreTest, AVanishedBucketIsAnError) {
  const std::string bucket = NewBucketName();
  auto store = Open(server_->Url(bucket, false));
  ASSERT_TRUE(store);
  auto options = ParseS3Url(server_->Url(bucket, false).substr(5));
  ASSERT_TRUE(options);
  auto deleted = S3Client(*options).Send({.method = "DELETE"});
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 204);

  auto got = store->Get("k");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kIo);
  EXPECT_THAT(got.error().message, HasSubstr("NoSuchBucket"));
  EXPECT_EQ(store->Put("k", Bytes("v"), "", Durability::kPowerLoss).error().code, ErrorCode::kIo);
  EXPECT_EQ(store->Delete("k").error().code, ErrorCode::kIo);
}

TEST_F(S3BlobStoreTest, RejectsControlCharactersInTheContentType) {
  auto store = Open(server_->Url(NewBucketName(), false));
  ASSERT_TRUE(store);
  auto put =
      store->Put("k", Bytes("v"), "text/plain\r\nx-amz-acl: public-read", Durability::kPowerLoss);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
}

TEST(S3BlobStoreUnreachableTest, ARefusedConnectionIsUnavailableAtOnce) {
  const int port = FreeLoopbackPort();  // nothing listens there
  const auto start = std::chrono::steady_clock::now();
  auto store =
      OpenBlobStore(std::format("s3://AK:TOPSECRET@127.0.0.1:{}/bucket?scheme=http", port));
  ASSERT_FALSE(store);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message, HasSubstr(std::format("127.0.0.1:{}", port)));
  EXPECT_THAT(store.error().message, Not(HasSubstr("TOPSECRET")));
}

// A listening socket on 127.0.0.1 that nobody reads: the kernel completes connections to it,
// and nothing is ever answered. Closed with the object.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{.sin_family = AF_INET, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  ~SilentListener() { ::close(fd_); }

  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

TEST(S3BlobStoreUnreachableTest, AServerThatNeverAnswersTimesOut) {
  const SilentListener listener;
  const auto start = std::chrono::steady_clock::now();
  auto store = OpenBlobStore(
      std::format("s3://AK:SK@127.0.0.1:{}/bucket?scheme=http&timeout=1", listener.port()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message, HasSubstr("timed out"));
  EXPECT_GE(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);
}

// With the default timeout (60 s, room for large objects), a server that takes the connection
// and never answers fails the request once nothing has moved for 10 s.
TEST(S3BlobStoreUnreachableTest, AServerThatStopsAnsweringFailsAfterTenSecondsWithoutProgress) {
  const SilentListener listener;
  const auto start = std::chrono::steady_clock::now();
  auto store =
      OpenBlobStore(std::format("s3://AK:SK@127.0.0.1:{}/bucket?scheme=http", listener.port()));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable) << store.error().message;
  EXPECT_GE(elapsed, 9s);
  EXPECT_LT(elapsed, 20s);
}

// s3rver stopped (SIGSTOP) keeps its connections and answers nothing: the first request
// waits for its timeout (the URL's 2 s here), later ones fail at once, and requests work
// again once the server answers the client's probe.
TEST(S3BlobStoreSilentServerTest, AServerThatStopsAnsweringFailsQuicklyAndRecovers) {
  auto server = S3rver::Start();
  ASSERT_TRUE(server) << server.error().message;
  auto store = OpenBlobStore((*server)->Url(NewBucketName(), false) + "&timeout=2");
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_TRUE((*store)->Put("inputs/a", Bytes("a"), "image/jpeg", Durability::kPowerLoss));

  (*server)->Pause();
  auto start = std::chrono::steady_clock::now();
  auto unanswered = (*store)->Get("inputs/a");
  ASSERT_FALSE(unanswered);
  EXPECT_EQ(unanswered.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  start = std::chrono::steady_clock::now();
  auto refused = (*store)->Put("inputs/b", Bytes("b"), "image/jpeg", Durability::kPowerLoss);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("not answering"));
  EXPECT_EQ((*store)->Exists("inputs/a").error().code, ErrorCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms)
      << "no request waits once one went unanswered";

  (*server)->Resume();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto read = (*store)->Get("inputs/a");
  while (!read && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    read = (*store)->Get("inputs/a");
  }
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, Bytes("a"));
  EXPECT_TRUE((*store)->Put("inputs/b", Bytes("b"), "image/jpeg", Durability::kPowerLoss));
}

}  // namespace
}  // namespace argus::blob
