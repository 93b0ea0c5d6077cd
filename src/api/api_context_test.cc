#include "api/api_context.h"

#include <gtest/gtest.h>

#include <chrono>
#include <format>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "blob/store_with_a_step_test.h"
#include "common/clock.h"
#include "common/temp_dir_test.h"
#include "worker/worker.h"

namespace argus::api {
namespace {

using namespace std::chrono_literals;

// An ApiContext over real stores in a fresh folder: SQLite catalog and queue, a local blob
// store and the Unix-socket event bus.
class ApiContextTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto catalog = catalog::OpenCatalog("sqlite://" + (dir_ / "catalog.db").string());
    auto queue = queue::OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {});
    auto blobs = blob::OpenBlobStore("file://" + (dir_ / "blobs").string());
    auto events = events::OpenEventBus("unix://" + (dir_ / "events.sock").string());
    ASSERT_TRUE(catalog && queue && blobs && events);
    catalog_ = std::move(*catalog);
    queue_ = std::move(*queue);
    blobs_ = std::move(*blobs);
    events_ = std::move(*events);
    job_marks_ = std::make_unique<worker::JobMarks>(*catalog_, 1s);
    context_ = std::make_unique<ApiContext>(*catalog_, *queue_, *job_marks_, *blobs_, *events_,
                                            hub_, metrics_, handlers_, ApiOptions{});
  }

  // `count` photos of `owner`, classified, with their bytes stored; their ids.
  std::vector<std::string> AddDonePhotos(const std::string& owner, int count) {
    std::vector<std::string> ids;
    for (int i = 0; i < count; ++i) {
      const std::string id = std::format("{:064x}", i + 1);
      const std::vector<std::byte> bytes(16, std::byte{'x'});
      EXPECT_TRUE(
          blobs_->Put(worker::InputKey(id), bytes, "image/jpeg", blob::Durability::kRecreatable));
      EXPECT_TRUE(catalog_->AddUpload({.id = id, .owner = owner, .filename = "photo.jpg"}));
      EXPECT_TRUE(catalog_->StoreResults(
          std::vector<catalog::ResultToStore>{
              {.image_id = id, .result = {.result_json = R"({"labels":[]})", .model = "m"}}},
          NowMs()));
      ids.push_back(id);
    }
    return ids;
  }

  std::size_t StoredInputs(const std::vector<std::string>& ids) {
    std::size_t stored = 0;
    for (const std::string& id : ids)
      stored += blobs_->Exists(worker::InputKey(id)).value_or(false);
    return stored;
  }

  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<queue::Queue> queue_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<worker::JobMarks> job_marks_;
  EventHub hub_;
  Metrics metrics_;
  HandlerPool handlers_{1, 16};
  std::unique_ptr<ApiContext> context_;
};

// A stopping process need not wait for a sweep of thousands of photos (seconds), nor
// a client for the deletion of a large gallery: removals give way at their bounds, and a
// later one takes up the rest.
TEST_F(ApiContextTest, RemovalsGiveWayAtTheirBoundsAndALaterOneTakesUpTheRest) {
  const std::vector<std::string> anonymous = AddDonePhotos("", 5);
  std::stop_source stopped;
  stopped.request_stop();
  const std::int64_t later = NowMs() + 1000;
  EXPECT_EQ(context_->RemoveAnonymousUploadsBefore(later, {.stop = stopped.get_token()}), 0u);
  EXPECT_EQ(
      context_->RemoveAnonymousUploadsBefore(later, {.until = std::chrono::steady_clock::now()}),
      0u);
  EXPECT_EQ(StoredInputs(anonymous), 5u);
  EXPECT_EQ(context_->RemoveAnonymousUploadsBefore(later), 5u);
  EXPECT_EQ(StoredInputs(anonymous), 0u);

  auto user = catalog_->CreateUser("alice@example.com", "hash", NowMs());
  ASSERT_TRUE(user);
  const std::vector<std::string> owned = AddDonePhotos(user->id, 5);
  ASSERT_TRUE(catalog_->DeleteUser(user->id));
  EXPECT_EQ(context_->RemoveImagesOf(user->id, {.stop = stopped.get_token()}), 0u);
  EXPECT_EQ(context_->RemovePhotosOfDeletedUsers({.stop = stopped.get_token()}), 0u);
  EXPECT_EQ(StoredInputs(owned), 5u);
  EXPECT_EQ(context_->RemovePhotosOfDeletedUsers(), 5u);
  EXPECT_EQ(StoredInputs(owned), 0u);
}

// Bytes a crash or a catalog outage kept from being recorded stayed in the blob store for
// good, as did an output or thumbnail written as its image was removed. The sweep removes
// objects of no image once old enough, and leaves recorded images and newer objects alone.
TEST_F(ApiContextTest, ObjectsOfNoImageAreRemovedOnceOldEnough) {
  const std::vector<std::string> recorded = AddDonePhotos("", 1);
  const std::vector<std::byte> bytes(16, std::byte{'y'});
  const auto id = [](int n) { return std::format("{:064x}", 100 + n); };
  const std::vector<std::string> unrecorded = {worker::InputKey(id(1)), worker::OutputKey(id(2)),
                                               worker::ThumbnailKey(id(2))};
  const std::vector<std::string> kept = {worker::OutputKey(recorded[0]), "inputs/not-an-image",
                                         "elsewhere/" + id(3)};
  for (const std::string& key : unrecorded) {
    ASSERT_TRUE(blobs_->Put(key, bytes, "image/jpeg", blob::Durability::kRecreatable));
  }
  for (const std::string& key : kept) {
    ASSERT_TRUE(blobs_->Put(key, bytes, "image/jpeg", blob::Durability::kRecreatable));
  }
  std::this_thread::sleep_for(20ms);
  const auto cutoff = std::chrono::system_clock::now();
  std::this_thread::sleep_for(20ms);
  const std::string recent = worker::InputKey(id(4));
  ASSERT_TRUE(blobs_->Put(recent, bytes, "image/jpeg", blob::Durability::kRecreatable));

  std::stop_source stopped;
  stopped.request_stop();
  EXPECT_EQ(context_->RemoveObjectsOfNoImage(cutoff, {.stop = stopped.get_token()}), 0u);
  EXPECT_EQ(context_->RemoveObjectsOfNoImage(cutoff), 3u);
  for (const std::string& key : unrecorded) EXPECT_FALSE(*blobs_->Exists(key)) << key;
  for (const std::string& key : kept) EXPECT_TRUE(*blobs_->Exists(key)) << key;
  EXPECT_TRUE(*blobs_->Exists(recent));
  EXPECT_EQ(StoredInputs(recorded), 1u);
  EXPECT_EQ(context_->RemoveObjectsOfNoImage(cutoff), 0u);
}

// An upload through another replica (not held by this one's image lock) that records the
// image between the sweep's look at the catalog and its deletion gets its bytes back.
TEST_F(ApiContextTest, BytesAnotherReplicaRecordsDuringTheirRemovalArePutBack) {
  const std::string id = std::format("{:064x}", 200);
  const std::vector<std::byte> bytes(16, std::byte{'z'});
  ASSERT_TRUE(
      blobs_->Put(worker::InputKey(id), bytes, "image/png", blob::Durability::kRecreatable));
  blob::StoreWithAStepAfterARead store(*blobs_, worker::InputKey(id), [&] {
    EXPECT_TRUE(catalog_->AddUpload(
        {.id = id, .owner = "", .filename = "again.png", .content_type = "image/png"}));
  });
  ApiContext replica(*catalog_, *queue_, *job_marks_, store, *events_, hub_, metrics_, handlers_,
                     ApiOptions{});
  EXPECT_EQ(replica.RemoveObjectsOfNoImage(std::chrono::system_clock::now() + 1s), 0u);
  EXPECT_EQ(blobs_->Get(worker::InputKey(id)), bytes);
}

}  // namespace
}  // namespace argus::api
