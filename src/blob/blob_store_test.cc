#include "blob/blob_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <format>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "blob/s3rver_for_tests.h"
#include "common/small_file_system_test.h"

namespace argus::blob {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::vector<std::byte> Bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

std::filesystem::path MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "argus-blob-XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

// Every behaviour BlobStore promises, on each back end: a local folder, and s3rver reached
// with path-style and with virtual-host addressing.
enum class Backend : std::uint8_t { kLocal, kS3PathStyle, kS3VirtualHost };

std::string_view NameOf(Backend backend) {
  switch (backend) {
    case Backend::kLocal:
      return "Local";
    case Backend::kS3PathStyle:
      return "S3PathStyle";
    case Backend::kS3VirtualHost:
      return "S3VirtualHost";
  }
  return "";
}

// Names the parameter in test output and CTest's test names.
void PrintTo(Backend backend, std::ostream* out) { *out << NameOf(backend); }

class BlobStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    std::string url = (dir_ / "store").string();
    if (GetParam() != Backend::kLocal) {
      auto server = SharedS3rver();
      ASSERT_TRUE(server) << server.error().message;
      url = (*server)->Url(NewBucketName(), GetParam() == Backend::kS3VirtualHost);
    }
    auto store = OpenBlobStore(url);
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<BlobStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreTest,
                         ::testing::Values(Backend::kLocal, Backend::kS3PathStyle,
                                           Backend::kS3VirtualHost),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(NameOf(info.param));
                         });

TEST_P(BlobStoreTest, RoundTrips) {
  ASSERT_TRUE(store_->Put("inputs/abc", Bytes("hello"), "text/plain", Durability::kPowerLoss));
  auto got = store_->Get("inputs/abc");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, Bytes("hello"));
}

TEST_P(BlobStoreTest, KeepsEmptyAndBinaryObjects) {
  ASSERT_TRUE(store_->Put("empty", {}, "application/octet-stream", Durability::kPowerLoss));
  EXPECT_EQ(store_->Get("empty").value(), std::vector<std::byte>{});
  const std::string binary("\0\xff\x01zz\0", 6);
  ASSERT_TRUE(
      store_->Put("binary", Bytes(binary), "application/octet-stream", Durability::kPowerLoss));
  EXPECT_EQ(store_->Get("binary").value(), Bytes(binary));
}

// Several MiB: libcurl then asks the server to continue before it sends the body.
TEST_P(BlobStoreTest, KeepsLargeObjects) {
  std::vector<std::byte> large(std::size_t{5} << 20);
  for (std::size_t i = 0; i < large.size(); ++i)
    large[i] = static_cast<std::byte>(i * 7 + i / 4099);
  auto put = store_->Put("inputs/large", large, "image/jpeg", Durability::kPowerLoss);
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(store_->Get("inputs/large").value(), large);
}

TEST_P(BlobStoreTest, OverwriteReplacesTheObjectWhateverTheDurability) {
  ASSERT_TRUE(store_->Put("k", Bytes("a much longer first version"), "", Durability::kPowerLoss));
  ASSERT_TRUE(store_->Put("k", Bytes("second"), "", Durability::kRecreatable));
  EXPECT_EQ(store_->Get("k").value(), Bytes("second"));
  ASSERT_TRUE(store_->Put("k", Bytes("third, durable"), "", Durability::kPowerLoss));
  EXPECT_EQ(store_->Get("k").value(), Bytes("third, durable"));
}

TEST_P(BlobStoreTest, AnObjectWrittenRecreatableCanBeMadeDurable) {
  ASSERT_TRUE(store_->Put("inputs/later", Bytes("made durable afterwards"), "image/jpeg",
                          Durability::kRecreatable));
  auto durable = store_->MakeDurable("inputs/later");
  ASSERT_TRUE(durable) << durable.error().message;
  EXPECT_EQ(store_->Get("inputs/later").value(), Bytes("made durable afterwards"));
  EXPECT_EQ(store_->MakeDurable("../escape").error().code, ErrorCode::kInvalidArgument);
}

TEST_P(BlobStoreTest, GetOfAMissingObjectIsNotFound) {
  auto got = store_->Get("outputs/missing.json");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(got.error().message, HasSubstr("outputs/missing.json"));
}

TEST_P(BlobStoreTest, DeleteIsIdempotent) {
  ASSERT_TRUE(store_->Put("thumbnails/x.jpg", Bytes("jpeg"), "image/jpeg", Durability::kPowerLoss));
  ASSERT_TRUE(store_->Delete("thumbnails/x.jpg"));
  EXPECT_EQ(store_->Get("thumbnails/x.jpg").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete("thumbnails/x.jpg"));
  EXPECT_TRUE(store_->Delete("never/was/here"));
}

TEST_P(BlobStoreTest, ExistsSeesObjectsOnly) {
  EXPECT_FALSE(store_->Exists("a/b").value());
  ASSERT_TRUE(store_->Put("a/b", Bytes("x"), "", Durability::kPowerLoss));
  EXPECT_TRUE(store_->Exists("a/b").value());
  EXPECT_FALSE(store_->Exists("a").value()) << "a key prefix is not an object";
  EXPECT_EQ(store_->Get("a").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store_->Exists("a/b/c").value());
  ASSERT_TRUE(store_->Delete("a/b"));
  EXPECT_FALSE(store_->Exists("a/b").value());
}

TEST_P(BlobStoreTest, RejectsInvalidKeys) {
  const std::string with_nul("a\0b", 3);
  const std::string too_long(1025, 'a');
  const std::string long_segment(201, 'a');
  for (std::string_view key :
       {std::string_view(""), std::string_view("../x"), std::string_view(".."),
        std::string_view("/abs"), std::string_view("a//b"), std::string_view("a/./b"),
        std::string_view("a/../b"), std::string_view("a/"), std::string_view("."),
        std::string_view("with space"), std::string_view(with_nul), std::string_view("a\\b"),
        std::string_view("tmp~1"), std::string_view("ünï"), std::string_view("a?b"),
        std::string_view(too_long), std::string_view(long_segment)}) {
    SCOPED_TRACE(key);
    auto put = store_->Put(key, Bytes("x"), "", Durability::kPowerLoss);
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Get(key).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(key).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Exists(key).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->PresignedGetUrl(key, 60s).error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

TEST_P(BlobStoreTest, AcceptsTheKeysArgusUses) {
  for (std::string_view key : {"inputs/0123abcdef", "outputs/0123abcdef.json",
                               "thumbnails/0123abcdef.jpg", "A-Z_a.z-0.9", ".hidden"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(store_->Put(key, Bytes("x"), "", Durability::kPowerLoss));
    EXPECT_TRUE(store_->Exists(key).value());
  }
}

// Many threads on one store, each with keys of its own: the store's shared state (curl
// handles, connections) must keep every request apart. The keys are flat because s3rver,
// deleting an object, removes the folders it leaves empty while other requests may be
// using them (HTTP 500); S3 has no folders.
TEST_P(BlobStoreTest, ConcurrentClientsKeepTheirObjectsApart) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 8;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  // GoogleTest's assertions are thread-safe on this platform.
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string key = std::format("client-{}-{}", thread, round);
        const auto data =
            Bytes(std::format("{}/{}:", thread, round) +
                  std::string(std::size_t{4096} * (round + 1), static_cast<char>('a' + thread)));
        auto put = store_->Put(key, data, "application/octet-stream", Durability::kPowerLoss);
        EXPECT_TRUE(put) << put.error().message;
        auto got = store_->Get(key);
        EXPECT_TRUE(got && *got == data)
            << key << ": " << (got ? "other bytes" : got.error().message);
        auto exists = store_->Exists(key);
        EXPECT_TRUE(exists && *exists)
            << key << ": " << (exists ? "missing" : exists.error().message);
        auto deleted = store_->Delete(key);
        EXPECT_TRUE(deleted) << deleted.error().message;
        exists = store_->Exists(key);
        EXPECT_TRUE(exists && !*exists)
            << key << ": " << (exists ? "still there" : exists.error().message);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
}

// The keys `store` lists in `folder`, sorted, each checked to have been written within the
// last minute (S3 dates objects to the second, and a clock may be a little ahead).
std::vector<std::string> ListedKeys(BlobStore& store, std::string_view folder) {
  std::vector<std::string> keys;
  const auto now = std::chrono::system_clock::now();
  auto listed = store.List(folder, [&](const ListedObject& object) {
    EXPECT_LT(now - object.written, std::chrono::minutes(1)) << object.key;
    EXPECT_LT(object.written - now, std::chrono::seconds(5)) << object.key;
    keys.push_back(object.key);
    return true;
  });
  EXPECT_TRUE(listed) << listed.error().message;
  std::ranges::sort(keys);
  return keys;
}

TEST_P(BlobStoreTest, ListsTheObjectsOfAFolderWithWhenTheyWereWritten) {
  for (const char* key : {"inputs/b", "inputs/a", "inputs/deeper/c", "outputs/a.json", "top"}) {
    ASSERT_TRUE(store_->Put(key, Bytes(key), "text/plain", Durability::kRecreatable));
  }
  ASSERT_TRUE(store_->Put("gone/x", Bytes("x"), "text/plain", Durability::kRecreatable));
  ASSERT_TRUE(store_->Delete("gone/x"));
  EXPECT_EQ(ListedKeys(*store_, "inputs/"),
            (std::vector<std::string>{"inputs/a", "inputs/b", "inputs/deeper/c"}));
  EXPECT_EQ(ListedKeys(*store_, ""),
            (std::vector<std::string>{"inputs/a", "inputs/b", "inputs/deeper/c", "outputs/a.json",
                                      "top"}));
  EXPECT_TRUE(ListedKeys(*store_, "gone/").empty());
  EXPECT_TRUE(ListedKeys(*store_, "never/").empty());

  int visited = 0;
  EXPECT_TRUE(store_->List("inputs/", [&](const ListedObject&) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2) << "a visit that returns false ends the listing";
  for (const char* folder : {"inputs", "/inputs/", "../", "in~puts/"}) {
    auto refused = store_->List(folder, [](const ListedObject&) { return true; });
    ASSERT_FALSE(refused) << folder;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << folder;
  }
}

// S3 answers a listing 1,000 keys at a time.
TEST_P(BlobStoreTest, ListsFoldersOfMoreObjectsThanOnePage) {
  constexpr int kObjects = 1003;
  std::vector<std::string> keys;
  for (int i = 0; i < kObjects; ++i) {
    keys.push_back(std::format("many/{:04}", i));
    ASSERT_TRUE(store_->Put(keys.back(), Bytes("1"), "text/plain", Durability::kRecreatable));
  }
  EXPECT_EQ(ListedKeys(*store_, "many/"), keys);
}

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    auto store = OpenBlobStore((dir_ / "store").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(LocalBlobStoreTest, NestedKeysCreateFolders) {
  ASSERT_TRUE(store_->Put("one/two/three/file.bin", Bytes("deep"), "", Durability::kPowerLoss));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "store/one/two/three"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / "store/one/two/three/file.bin"));
  EXPECT_EQ(store_->Get("one/two/three/file.bin").value(), Bytes("deep"));
}

TEST_F(LocalBlobStoreTest, LeavesNoTemporaryFiles) {
  ASSERT_TRUE(store_->Put("d/k", Bytes("1"), "", Durability::kPowerLoss));
  ASSERT_TRUE(store_->Put("d/k", Bytes("2"), "", Durability::kPowerLoss));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "store/d")) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"k"});
}

// What a Put under way, or one a crash cut short, leaves in the folder is no object.
TEST_F(LocalBlobStoreTest, ListsNoTemporaryFiles) {
  ASSERT_TRUE(store_->Put("d/k", Bytes("1"), "", Durability::kPowerLoss));
  std::ofstream(dir_ / "store/d/.k~0123456789abcdef") << "part of a put";
  EXPECT_EQ(ListedKeys(*store_, "d/"), std::vector<std::string>{"d/k"});
}

TEST_F(LocalBlobStoreTest, MakingAMissingObjectDurableIsNotFound) {
  EXPECT_EQ(store_->MakeDurable("inputs/never-written").error().code, ErrorCode::kNotFound);
}

TEST_F(LocalBlobStoreTest, AnObjectCannotAlsoBeAFolder) {
  ASSERT_TRUE(store_->Put("a", Bytes("x"), "", Durability::kPowerLoss));
  auto put = store_->Put("a/b", Bytes("y"), "", Durability::kPowerLoss);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->Get("a").value(), Bytes("x"));
}

// The store on a file system of 64 KB of its own.
TEST_F(LocalBlobStoreTest, AFullDiskIsNoSpaceAndLeavesNoPartialObject) {
  const std::filesystem::path small = dir_ / "small";
  SmallFileSystem file_system(small, "64k");
  if (!file_system.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << file_system.error();
  {
    auto store = OpenBlobStore((small / "store").string());
    ASSERT_TRUE(store) << store.error().message;
    const std::vector<std::byte> big(std::size_t{256} * 1024, std::byte{7});
    for (Durability durability : {Durability::kPowerLoss, Durability::kRecreatable}) {
      auto put = (*store)->Put("inputs/big", big, "", durability);
      ASSERT_FALSE(put);
      EXPECT_EQ(put.error().code, ErrorCode::kNoSpace) << put.error().message;
    }
    EXPECT_EQ((*store)->Get("inputs/big").error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(std::filesystem::is_empty(small / "store/inputs")) << "no temporary file kept";
    EXPECT_TRUE((*store)->Put("inputs/small", Bytes("fits"), "", Durability::kPowerLoss))
        << "the space of the failed write is free again";
  }
  EXPECT_TRUE(file_system.Unmount());
}

TEST_F(LocalBlobStoreTest, HasNoPresignedUrls) {
  ASSERT_TRUE(store_->Put("thumbnails/x.jpg", Bytes("jpeg"), "image/jpeg", Durability::kPowerLoss));
  auto url = store_->PresignedGetUrl("thumbnails/x.jpg", 60s);
  ASSERT_FALSE(url);
  EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(url.error().message, "presigned URLs need an S3 blob store");
}

// Writers replace one key with whole objects of different sizes, each filled with one byte
// value that encodes its size; readers must only ever see such whole objects. Local only:
// S3 replaces objects atomically, but s3rver writes them in place, so its readers can see
// a torn object.
TEST_F(LocalBlobStoreTest, ConcurrentReadersNeverSeeAPartialObject) {
  constexpr std::size_t kUnit = std::size_t{64} * 1024;
  auto object = [](int version) {
    const std::size_t units = 1 + static_cast<std::size_t>(version % 4);
    return std::vector<std::byte>(units * kUnit, static_cast<std::byte>(units));
  };
  ASSERT_TRUE(store_->Put("shared/key", object(0), "", Durability::kPowerLoss));
  std::atomic<bool> stop = false;
  std::atomic<int> failures = 0;
  std::atomic<int> reads = 0;
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int writer = 0; writer < 3; ++writer) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < 40; ++i) {
        if (!store_->Put("shared/key", object(writer + i), "", Durability::kPowerLoss)) ++failures;
      }
    });
  }
  for (int reader = 0; reader < 3; ++reader) {
    threads.emplace_back([&] {
      while (!stop) {
        auto got = store_->Get("shared/key");
        ++reads;
        if (!got || got->empty() || got->size() % kUnit != 0) {
          ++failures;
          continue;
        }
        const auto expected = static_cast<std::byte>(got->size() / kUnit);
        for (std::byte b : *got) {
          if (b != expected) {
            ++failures;
            break;
          }
        }
      }
    });
  }
  for (int i = 0; i < 3; ++i) threads[i].join();
  stop = true;
  for (std::size_t i = 3; i < threads.size(); ++i) threads[i].join();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(reads, 0);
}

TEST(OpenBlobStoreTest, TakesFileUrlsAndPlainPathsAndCreatesTheFolder) {
  const std::filesystem::path dir = MakeTempDir();
  auto by_url = OpenBlobStore("file://" + (dir / "via/url").string());
  ASSERT_TRUE(by_url) << by_url.error().message;
  ASSERT_TRUE((*by_url)->Put("k", Bytes("v"), "", Durability::kPowerLoss));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "via/url/k"));

  auto by_path = OpenBlobStore((dir / "via/url/").string());
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_EQ((*by_path)->Get("k").value(), Bytes("v"));
  std::filesystem::remove_all(dir);
}

TEST(OpenBlobStoreTest, RejectsUnknownSchemesNamingTheSupportedOnes) {
  for (std::string_view url : {"gs://bucket/prefix", "http://host/x"}) {
    SCOPED_TRACE(url);
    auto store = OpenBlobStore(url);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(store.error().message, HasSubstr("file:///abs/dir"));
    EXPECT_THAT(store.error().message, HasSubstr("s3://"));
  }
  EXPECT_EQ(OpenBlobStore("file://relative/dir").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenBlobStore("s3://host-without-bucket").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(OpenBlobStore("").error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenBlobStoreTest, ReportsAFolderThatCannotBeMade) {
  const std::filesystem::path dir = MakeTempDir();
  std::ofstream(dir / "file") << "not a folder";

  auto store = OpenBlobStore((dir / "file/store").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr((dir / "file/store").string()));
  std::filesystem::remove_all(dir);
}

// Out of descriptors (a flood of connections) is a passing state the client may retry, not a
// failure of the server's disk.
TEST(LocalFolderTest, RunningOutOfFileDescriptorsIsUnavailable) {
  const std::filesystem::path dir = MakeTempDir();
  auto store = OpenBlobStore((dir / "store").string());
  ASSERT_TRUE(store) << store.error().message;
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit lowered = saved;
  lowered.rlim_cur = 64;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  std::vector<int> taken;
  for (int fd = dup(0); fd >= 0; fd = dup(0)) taken.push_back(fd);
  auto put = (*store)->Put("inputs/a", Bytes("v"), "", Durability::kRecreatable);
  for (const int fd : taken) close(fd);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::kUnavailable) << put.error().message;
  EXPECT_TRUE((*store)->Put("inputs/a", Bytes("v"), "", Durability::kRecreatable));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::blob
