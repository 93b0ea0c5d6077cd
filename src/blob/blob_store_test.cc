#include "blob/blob_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace argus::blob {
namespace {

using ::testing::HasSubstr;

std::vector<std::byte> Bytes(std::string_view text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "argus-blob-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = OpenBlobStore((dir_ / "store").string());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, RoundTrips) {
  ASSERT_TRUE(store_->Put("inputs/abc", Bytes("hello"), "text/plain"));
  auto got = store_->Get("inputs/abc");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, Bytes("hello"));
}

TEST_F(BlobStoreTest, KeepsEmptyAndBinaryObjects) {
  ASSERT_TRUE(store_->Put("empty", {}, "application/octet-stream"));
  EXPECT_EQ(store_->Get("empty").value(), std::vector<std::byte>{});
  const std::string binary("\0\xff\x01zz\0", 6);
  ASSERT_TRUE(store_->Put("binary", Bytes(binary), "application/octet-stream"));
  EXPECT_EQ(store_->Get("binary").value(), Bytes(binary));
}

TEST_F(BlobStoreTest, OverwriteReplacesTheObject) {
  ASSERT_TRUE(store_->Put("k", Bytes("a much longer first version"), ""));
  ASSERT_TRUE(store_->Put("k", Bytes("second"), ""));
  EXPECT_EQ(store_->Get("k").value(), Bytes("second"));
}

TEST_F(BlobStoreTest, GetOfAMissingObjectIsNotFound) {
  auto got = store_->Get("outputs/missing.json");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(got.error().message, HasSubstr("outputs/missing.json"));
}

TEST_F(BlobStoreTest, DeleteIsIdempotent) {
  ASSERT_TRUE(store_->Put("thumbnails/x.jpg", Bytes("jpeg"), "image/jpeg"));
  ASSERT_TRUE(store_->Delete("thumbnails/x.jpg"));
  EXPECT_EQ(store_->Get("thumbnails/x.jpg").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete("thumbnails/x.jpg"));
  EXPECT_TRUE(store_->Delete("never/was/here"));
}

TEST_F(BlobStoreTest, ExistsSeesObjectsOnly) {
  EXPECT_FALSE(store_->Exists("a/b").value());
  ASSERT_TRUE(store_->Put("a/b", Bytes("x"), ""));
  EXPECT_TRUE(store_->Exists("a/b").value());
  EXPECT_FALSE(store_->Exists("a").value()) << "a folder is not an object";
  EXPECT_EQ(store_->Get("a").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store_->Exists("a/b/c").value());
  ASSERT_TRUE(store_->Delete("a/b"));
  EXPECT_FALSE(store_->Exists("a/b").value());
}

TEST_F(BlobStoreTest, NestedKeysCreateFolders) {
  ASSERT_TRUE(store_->Put("one/two/three/file.bin", Bytes("deep"), ""));
  EXPECT_TRUE(std::filesystem::is_directory(dir_ / "store/one/two/three"));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ / "store/one/two/three/file.bin"));
  EXPECT_EQ(store_->Get("one/two/three/file.bin").value(), Bytes("deep"));
}

TEST_F(BlobStoreTest, LeavesNoTemporaryFiles) {
  ASSERT_TRUE(store_->Put("d/k", Bytes("1"), ""));
  ASSERT_TRUE(store_->Put("d/k", Bytes("2"), ""));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ / "store/d")) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"k"});
}

TEST_F(BlobStoreTest, AnObjectCannotAlsoBeAFolder) {
  ASSERT_TRUE(store_->Put("a", Bytes("x"), ""));
  auto put = store_->Put("a/b", Bytes("y"), "");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->Get("a").value(), Bytes("x"));
}

TEST_F(BlobStoreTest, RejectsInvalidKeys) {
  const std::string with_nul("a\0b", 3);
  const std::string too_long(1025, 'a');
  const std::string long_segment(201, 'a');
  for (std::string_view key :
       {std::string_view(""), std::string_view("../x"), std::string_view(".."),
        std::string_view("/abs"), std::string_view("a//b"), std::string_view("a/./b"),
        std::string_view("a/../b"), std::string_view("a/"), std::string_view("."),
        std::string_view("with space"), std::string_view(with_nul), std::string_view("a\\b"),
        std::string_view("tmp~1"), std::string_view("ünï"), std::string_view(too_long),
        std::string_view(long_segment)}) {
    SCOPED_TRACE(key);
    auto put = store_->Put(key, Bytes("x"), "");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Get(key).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Delete(key).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(store_->Exists(key).error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

TEST_F(BlobStoreTest, AcceptsTheKeysArgusUses) {
  for (std::string_view key : {"inputs/0123abcdef", "outputs/0123abcdef.json",
                               "thumbnails/0123abcdef.jpg", "A-Z_a.z-0.9", ".hidden"}) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(store_->Put(key, Bytes("x"), ""));
    EXPECT_TRUE(store_->Exists(key).value());
  }
}

// Writers replace one key with whole objects of different sizes, each filled with one byte
// value that encodes its size; readers must only ever see such whole objects.
TEST_F(BlobStoreTest, ConcurrentReadersNeverSeeAPartialObject) {
  constexpr std::size_t kUnit = std::size_t{64} * 1024;
  auto object = [](int version) {
    const std::size_t units = 1 + static_cast<std::size_t>(version % 4);
    return std::vector<std::byte>(units * kUnit, static_cast<std::byte>(units));
  };
  ASSERT_TRUE(store_->Put("shared/key", object(0), ""));
  std::atomic<bool> stop = false;
  std::atomic<int> failures = 0;
  std::atomic<int> reads = 0;
  std::vector<std::thread> threads;
  threads.reserve(6);
  for (int writer = 0; writer < 3; ++writer) {
    threads.emplace_back([&, writer] {
      for (int i = 0; i < 40; ++i) {
        if (!store_->Put("shared/key", object(writer + i), "")) ++failures;
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
  std::string pattern = (std::filesystem::temp_directory_path() / "argus-blob-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;

  auto by_url = OpenBlobStore("file://" + (dir / "via/url").string());
  ASSERT_TRUE(by_url) << by_url.error().message;
  ASSERT_TRUE((*by_url)->Put("k", Bytes("v"), ""));
  EXPECT_TRUE(std::filesystem::is_regular_file(dir / "via/url/k"));

  auto by_path = OpenBlobStore((dir / "via/url/").string());
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_EQ((*by_path)->Get("k").value(), Bytes("v"));
  std::filesystem::remove_all(dir);
}

TEST(OpenBlobStoreTest, RejectsUnknownSchemesNamingTheSupportedOnes) {
  for (std::string_view url : {"s3://bucket/prefix", "http://host/x", "file://relative/dir"}) {
    SCOPED_TRACE(url);
    auto store = OpenBlobStore(url);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(store.error().message, HasSubstr("file:///abs/dir"));
  }
  EXPECT_EQ(OpenBlobStore("").error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenBlobStoreTest, ReportsAFolderThatCannotBeMade) {
  std::string pattern = (std::filesystem::temp_directory_path() / "argus-blob-XXXXXX").string();
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const std::filesystem::path dir = pattern;
  std::ofstream(dir / "file") << "not a folder";

  auto store = OpenBlobStore((dir / "file/store").string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kIo);
  EXPECT_THAT(store.error().message, HasSubstr((dir / "file/store").string()));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace argus::blob
