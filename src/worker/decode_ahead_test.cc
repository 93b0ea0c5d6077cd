#include "worker/decode_ahead.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/sha256.h"
#include "common/temp_dir_test.h"
#include "common/wait_test.h"
#include "engine/default_classifier_test.h"
#include "image/read_file.h"
#include "worker/worker.h"

namespace argus::worker {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kAssets = ARGUS_TEST_SHARED_DIR "/assets";
const std::filesystem::path kPhoto =
    ARGUS_TEST_SHARED_DIR "/data/imagenet-sample/n01582220_magpie.JPEG";

// The default model, a local blob store in a fresh folder, and the web tier's side of the
// announcements.
class DecodeAheadTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto classifier = engine::LoadDefaultClassifier(kAssets, {.intra_op_threads = 1});
    ASSERT_TRUE(classifier) << classifier.error().message;
    classifier_ = std::move(*classifier);
    auto blobs = blob::OpenBlobStore("file://" + (dir_ / "blobs").string());
    ASSERT_TRUE(blobs);
    blobs_ = std::move(*blobs);
    folder_ = DecodeAheadFolder(dir_);
    web_tier_ = std::make_unique<queue::WakeChannel>(folder_);
    ahead_ = std::make_unique<DecodeAhead>(folder_, *classifier_, *blobs_, image::Limits{});
    ASSERT_TRUE(ahead_->Start());
  }

  // Stores bytes as the web tier does; returns their id.
  std::string Store(std::span<const std::byte> bytes) {
    const std::string id = Sha256Hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    EXPECT_TRUE(blobs_->Put(InputKey(id), bytes, "image/jpeg", blob::Durability::kRecreatable));
    return id;
  }

  std::string StorePhoto() {
    auto bytes = image::ReadFile(kPhoto, 1 << 24);
    EXPECT_TRUE(bytes);
    return Store(*bytes);
  }

  // Waits until `count` decodings ahead have started, up to `limit`.
  bool WaitForStarted(std::uint64_t count, std::chrono::milliseconds limit = 30s) {
    return WaitUntil([&] { return ahead_->started() >= count; }, limit);
  }

  std::unique_ptr<engine::Classifier> classifier_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::filesystem::path folder_;
  std::unique_ptr<queue::WakeChannel> web_tier_;
  std::unique_ptr<DecodeAhead> ahead_;
};

TEST_F(DecodeAheadTest, AnAnnouncedImageIsDecodedAsOnReceiptAndTakenOnce) {
  const std::string id = StorePhoto();
  AnnounceUpload(*web_tier_, id);
  ASSERT_TRUE(WaitForStarted(1));

  std::vector<float> tensor(classifier_->tensor_size(), -1.0f);
  std::optional<Result<void>> taken = ahead_->Take(id, tensor);
  ASSERT_TRUE(taken.has_value()) << "the announced image was not held";
  const Result<void> decoded = taken.value_or(Fail(ErrorCode::kInternal, "not held"));
  ASSERT_TRUE(decoded) << decoded.error().message;
  auto bytes = image::ReadFile(kPhoto, 1 << 24);
  ASSERT_TRUE(bytes);
  std::vector<float> on_receipt(classifier_->tensor_size());
  ASSERT_TRUE(classifier_->Preprocess(*bytes, {}, on_receipt));
  EXPECT_EQ(tensor, on_receipt);
  EXPECT_EQ(ahead_->taken(), 1u);

  EXPECT_FALSE(ahead_->Take(id, tensor).has_value()) << "taken twice";
  EXPECT_EQ(ahead_->taken(), 1u);
}

TEST_F(DecodeAheadTest, AnotherImageIsNotHeldAndDoesNotWait) {
  const std::string id = StorePhoto();
  AnnounceUpload(*web_tier_, id);
  ASSERT_TRUE(WaitForStarted(1));
  std::vector<float> tensor(classifier_->tensor_size());
  EXPECT_FALSE(ahead_->Take(std::string(64, 'a'), tensor).has_value());
  EXPECT_TRUE(ahead_->Take(id, tensor).has_value()) << "the held image was dropped";
}

TEST_F(DecodeAheadTest, AnnouncementsPassWhileTheWorkerIsBusy) {
  const std::string id = StorePhoto();
  {
    DecodeAhead::Busy busy = ahead_->MarkBusy();
    DecodeAhead::Busy moved = std::move(busy);  // the batch that holds it is moved along
    AnnounceUpload(*web_tier_, id);
    EXPECT_FALSE(WaitForStarted(1, 300ms)) << "decoded ahead while busy";
  }
  std::vector<float> tensor(classifier_->tensor_size());
  EXPECT_FALSE(ahead_->Take(id, tensor).has_value());

  // Idle again: announcements are heard. Those that came while busy are dropped once it is
  // idle, and one sent at that moment may go with them, so they are sent until one is heard.
  ASSERT_TRUE(WaitUntil(
      [&] {
        AnnounceUpload(*web_tier_, id);
        return WaitForStarted(1, 50ms);
      },
      30s, 0ms));
  ASSERT_EQ(ahead_->started(), 1u);
  EXPECT_TRUE(ahead_->Take(id, tensor).has_value());
}

TEST_F(DecodeAheadTest, OnlyTheOneWorkerOfAMachineIsToldWhichImageComes) {
  const std::string id = StorePhoto();
  std::optional<queue::WakeChannel> other_worker(std::in_place, folder_);
  ASSERT_TRUE(other_worker->Listen());
  AnnounceUpload(*web_tier_, id);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(other_worker->Wait(60s), std::vector<std::string>{}) << "told of the image";
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "not woken";
  EXPECT_FALSE(WaitForStarted(1, 300ms)) << "decoded ahead beside another worker";

  other_worker.reset();
  AnnounceUpload(*web_tier_, id);
  ASSERT_TRUE(WaitForStarted(1));
  std::vector<float> tensor(classifier_->tensor_size());
  EXPECT_TRUE(ahead_->Take(id, tensor).has_value());
}

// A web tier that started before any worker of its machine (no folder to look in yet) tells
// the first one that comes.
TEST_F(DecodeAheadTest, AWorkerThatStartsAfterTheWebTierIsToldOfTheNextImage) {
  const std::filesystem::path later_folder = DecodeAheadFolder(dir_ / "later");
  queue::WakeChannel web_tier(later_folder);
  const std::string id = StorePhoto();
  AnnounceUpload(web_tier, id);
  DecodeAhead later(later_folder, *classifier_, *blobs_, image::Limits{});
  ASSERT_TRUE(later.Start());
  AnnounceUpload(web_tier, id);
  ASSERT_TRUE(WaitUntil([&] { return later.started() >= 1; }, 30s));
  std::vector<float> tensor(classifier_->tensor_size());
  EXPECT_TRUE(later.Take(id, tensor).has_value());
  EXPECT_EQ(ahead_->started(), 0u) << "a worker of another folder was told";
}

TEST_F(DecodeAheadTest, UndecodableBytesGiveTheDecodingErrorAndMissingOnesAreLeftToTheBatch) {
  const std::string corrupt = Store(AsBytes(std::string_view("not a picture at all")));
  AnnounceUpload(*web_tier_, corrupt);
  ASSERT_TRUE(WaitForStarted(1));
  std::vector<float> tensor(classifier_->tensor_size());
  std::optional<Result<void>> taken = ahead_->Take(corrupt, tensor);
  ASSERT_TRUE(taken.has_value());
  const Result<void> decoded = taken.value_or(Result<void>());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupportedMedia) << decoded.error().message;

  // Bytes the blob store does not have: the batch reads them itself and reports what it finds.
  const std::string missing(64, 'b');
  AnnounceUpload(*web_tier_, missing);
  ASSERT_TRUE(WaitForStarted(2));
  EXPECT_FALSE(ahead_->Take(missing, tensor).has_value());
}

TEST_F(DecodeAheadTest, ANewAnnouncementReplacesAnImageThatWasNotTaken) {
  const std::string first = StorePhoto();
  AnnounceUpload(*web_tier_, first);
  ASSERT_TRUE(WaitForStarted(1));
  const std::string second = Store(AsBytes(std::string_view("another upload, not an image")));
  AnnounceUpload(*web_tier_, second);
  ASSERT_TRUE(WaitForStarted(2));
  std::vector<float> tensor(classifier_->tensor_size());
  EXPECT_TRUE(ahead_->Take(second, tensor).has_value());
  EXPECT_FALSE(ahead_->Take(first, tensor).has_value());
}

}  // namespace
}  // namespace argus::worker
