#include "worker/worker.h"

#include <gtest/gtest.h>
#include <json/json.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "blob/s3rver_for_tests.h"
#include "blob/store_with_a_step_test.h"
#include "catalog/postgres_test_database.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/json_test.h"
#include "common/sha256.h"
#include "common/temp_dir_test.h"
#include "common/wait_test.h"
#include "engine/default_classifier_test.h"
#include "image/read_file.h"
#include "queue/wake_channel.h"
#include "worker/job.h"

namespace argus::worker {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path kAssets = ARGUS_TEST_SHARED_DIR "/assets";
const std::filesystem::path kSamples = ARGUS_TEST_SHARED_DIR "/data/imagenet-sample";

// What the workers announce on the event bus, as `read` finds it in each message, in order
// of arrival.
template <typename T>
class Announced {
 public:
  using Reader = std::function<std::vector<T>(std::string_view message)>;

  Announced(events::EventBus& bus, Reader read) : read_(std::move(read)) {
    auto subscription = bus.Subscribe([this](std::string_view payload) {
      std::vector<T> found = read_(payload);
      std::lock_guard lock(mutex_);
      std::ranges::move(found, std::back_inserter(seen_));
    });
    EXPECT_TRUE(subscription) << subscription.error().message;
    if (subscription) subscription_ = std::move(*subscription);
  }

  std::vector<T> SoFar() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

  // Those announced so far, once there are `count` or 30 s have passed.
  std::vector<T> Await(std::size_t count) {
    WaitUntil([&] { return SoFar().size() >= count; }, 30s, 5ms);
    return SoFar();
  }

 private:
  const Reader read_;
  std::mutex mutex_;
  std::vector<T> seen_;
  std::unique_ptr<events::Subscription> subscription_;  // last: it stops before the rest goes
};

// The image events of `status`.
Announced<Json::Value>::Reader ImageEventsOf(std::string status) {
  return [status = std::move(status)](std::string_view payload) {
    std::vector<Json::Value> found;
    const Json::Value message = ParseJson(payload);
    if (message["kind"] != "images") return found;
    for (const Json::Value& event : message["events"]) {
      if (event["status"] == status) found.push_back(event);
    }
    return found;
  };
}

std::vector<BatchEvent> BatchEvents(std::string_view payload) {
  auto event = DecodeWorkerEvent(payload);
  if (!event || !std::holds_alternative<BatchEvent>(*event)) return {};
  return {std::get<BatchEvent>(*event)};
}

// A worker over real stores in a fresh folder: SQLite queue and catalog, a local blob
// store, the Unix-socket event bus and the default model.
class WorkerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto classifier = engine::LoadDefaultClassifier(kAssets, {.intra_op_threads = 1});
    ASSERT_TRUE(classifier) << classifier.error().message;
    classifier_ = std::move(*classifier);
    auto queue =
        queue::OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {.visibility_timeout = 30s});
    auto catalog = catalog::OpenCatalog("sqlite://" + (dir_ / "catalog.db").string());
    auto blobs = blob::OpenBlobStore("file://" + (dir_ / "blobs").string());
    auto events = events::OpenEventBus("unix://" + (dir_ / "events.sock").string());
    ASSERT_TRUE(queue && catalog && blobs && events);
    queue_ = std::move(*queue);
    catalog_ = std::move(*catalog);
    blobs_ = std::move(*blobs);
    events_ = std::move(*events);
  }

  // Stores and enqueues a photo as the web tier does; returns its id.
  std::string Upload(const std::filesystem::path& file) {
    auto bytes = image::ReadFile(file, 1 << 24);
    EXPECT_TRUE(bytes);
    const std::string id = Sha256Hex({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
    EXPECT_TRUE(blobs_->Put(InputKey(id), *bytes, "image/jpeg", blob::Durability::kRecreatable));
    auto added = catalog_->AddUpload({.id = id, .owner = "", .filename = file.filename()});
    EXPECT_TRUE(added) << added.error().message;
    EXPECT_TRUE(EnqueueJob(*queue_, id, NowMs()));
    if (added) {
      EXPECT_TRUE(catalog_->MarkEnqueued(
          std::vector{catalog::JobMark{.image_id = id, .round_ms = added->record.created_at_ms}}));
    }
    return id;
  }

  std::vector<std::string> UploadSamples(std::size_t count) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(kSamples)) {
      if (entry.path().extension() == ".JPEG") files.push_back(entry.path());
    }
    std::ranges::sort(files);
    files.resize(std::min(count, files.size()));
    std::vector<std::string> ids;
    ids.reserve(files.size());
    for (const auto& file : files) ids.push_back(Upload(file));
    return ids;
  }

  std::jthread StartWorker(WorkerOptions options = {}, bool reserve_tensor_buffers = false,
                           DecodeAhead* decode_ahead = nullptr) {
    worker_ = std::make_unique<Worker>(*classifier_, *queue_, *catalog_, *blobs_, *events_, options,
                                       decode_ahead);
    if (reserve_tensor_buffers) worker_->ReserveTensorBuffers();
    return std::jthread([this](const std::stop_token& stop) { worker_->Run(stop); });
  }

  // Waits until the queue holds no job, ready or in flight.
  bool WaitForEmptyQueue(std::chrono::seconds limit = 120s) {
    return WaitUntil(
        [this] {
          auto stats = queue_->Stats();
          return stats && stats->ready + stats->in_flight == 0;
        },
        limit, 20ms);
  }

  bool WaitForJobsInFlight() {
    return WaitUntil(
        [this] {
          auto stats = queue_->Stats();
          return stats && stats->in_flight > 0;
        },
        30s, 20ms);
  }

  // Once the queue is empty: every image of `ids` done at its first attempt, none dead-lettered.
  void ExpectDoneWithoutLostAttempts(const std::vector<std::string>& ids) {
    ASSERT_TRUE(WaitForEmptyQueue());
    for (const std::string& id : ids) {
      auto image = catalog_->GetImage(id);
      ASSERT_TRUE(image);
      EXPECT_EQ(image->status, catalog::ImageStatus::kDone) << image->error;
      EXPECT_EQ(image->attempts, 0) << "the outage cost no attempt";
    }
    auto stats = queue_->Stats();
    ASSERT_TRUE(stats);
    EXPECT_EQ(stats->dead, 0U);
  }

  Json::Value OutputObject(const std::string& id) {
    auto bytes = blobs_->Get(OutputKey(id));
    EXPECT_TRUE(bytes) << id;
    if (!bytes) return {};
    return ParseJson({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
  }

  // Whether the output object of `id` has the top label, and its confidence, that the engine
  // gives `photo` on its own.
  ::testing::AssertionResult StoredAsClassifiedAlone(const std::string& id,
                                                     const std::filesystem::path& photo) {
    auto bytes = image::ReadFile(photo, 1 << 24);
    std::vector<float> tensor(classifier_->tensor_size());
    if (!bytes || !classifier_->Preprocess(*bytes, {}, tensor)) {
      return ::testing::AssertionFailure() << "cannot decode " << photo;
    }
    auto alone = classifier_->Classify(tensor, 1, 5);
    if (!alone) return ::testing::AssertionFailure() << alone.error().message;
    const engine::LabelScore& top = alone->front().labels.front();
    const Json::Value output = OutputObject(id);
    const Json::Value& stored = output["labels"][0];
    if (stored["name"].asString() != top.name ||
        std::abs(stored["confidence"].asDouble() - top.confidence) > 1e-5) {
      return ::testing::AssertionFailure()
             << "stored " << output << ", alone " << top.name << " " << top.confidence;
    }
    return ::testing::AssertionSuccess();
  }

  std::unique_ptr<engine::Classifier> classifier_;
  std::unique_ptr<queue::Queue> queue_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(WorkerTest, ClassifiesEveryQueuedImageAndWritesItsOutputObject) {
  // More than two batches, so that decoding, inference and settling overlap.
  const std::vector<std::string> ids = UploadSamples(40);
  {
    std::jthread worker = StartWorker({.max_batch = 8, .decode_threads = 1},
                                      /*reserve_tensor_buffers=*/true);
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  for (const std::string& id : ids) {
    auto record = catalog_->GetImage(id);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, catalog::ImageStatus::kDone) << id << ": " << record->error;
    EXPECT_FALSE(record->result_json.empty());
    const Json::Value output = OutputObject(id);
    EXPECT_EQ(output["id"].asString(), id);
    EXPECT_EQ(output["model"].asString(), classifier_->manifest().name);
    EXPECT_TRUE(output["labels"].isArray() && !output["labels"].empty()) << output;
  }
}

TEST_F(WorkerTest, ABatchAnnouncesItsImagesInOneMessagePerStatus) {
  std::mutex mutex;
  std::vector<Json::Value> messages;
  auto subscription = events_->Subscribe([&](std::string_view payload) {
    Json::Value message = ParseJson(payload);
    std::lock_guard lock(mutex);
    if (message["kind"] == "images") messages.push_back(std::move(message));
  });
  ASSERT_TRUE(subscription) << subscription.error().message;

  std::vector<std::string> ids = UploadSamples(5);  // queued before the worker starts: one batch
  {
    std::jthread worker = StartWorker({.max_batch = 8});
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  auto statuses_of = [&](std::string_view status) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      std::vector<std::vector<std::string>> found;  // the ids of each message with `status`
      {
        std::lock_guard lock(mutex);
        for (const Json::Value& message : messages) {
          if (message["events"][0]["status"] != std::string(status)) continue;
          std::vector<std::string>& in_message = found.emplace_back();
          for (const Json::Value& event : message["events"]) {
            EXPECT_EQ(event["status"].asString(), status) << message;
            in_message.push_back(event["id"].asString());
          }
          std::ranges::sort(in_message);
        }
      }
      if (!found.empty() || std::chrono::steady_clock::now() > deadline) return found;
      std::this_thread::sleep_for(5ms);
    }
  };
  std::ranges::sort(ids);
  EXPECT_EQ(statuses_of("processing"), std::vector<std::vector<std::string>>{ids});
  EXPECT_EQ(statuses_of("done"), std::vector<std::vector<std::string>>{ids});
}

TEST_F(WorkerTest, DoneEventsCarryTheTopLabelOnlyWhenItIsTheOneStored) {
  Announced<Json::Value> done(*events_, ImageEventsOf("done"));

  const std::string id = UploadSamples(1).front();
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  const Json::Value output = OutputObject(id);
  std::vector<Json::Value> received = done.Await(1);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["id"].asString(), id);
  EXPECT_EQ(received[0]["top_label"].asString(), output["labels"][0]["name"].asString());
  EXPECT_TRUE(received[0]["settled"].asBool()) << received[0];

  // A redelivery of the finished job: done again, but the label is left to the catalog.
  ASSERT_TRUE(queue_->Enqueue(EncodeJob({.image_id = id, .enqueued_at_ms = NowMs()})));
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  received = done.Await(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1]["id"].asString(), id);
  EXPECT_FALSE(received[1].isMember("top_label")) << received[1];
  EXPECT_FALSE(received[1].isMember("settled")) << received[1];
}

// The metrics count an image's failure once: only the delivery that recorded it says so.
TEST_F(WorkerTest, OnlyTheDeliveryThatRecordedAFailureAnnouncesItSettled) {
  Announced<Json::Value> failed(*events_, ImageEventsOf("failed"));

  const std::string id = UploadSamples(1).front();
  const std::string corrupt = "not a picture at all";
  ASSERT_TRUE(
      blobs_->Put(InputKey(id), AsBytes(corrupt), "image/jpeg", blob::Durability::kRecreatable));
  for (int delivery = 0; delivery < 2; ++delivery) {
    if (delivery == 1) {
      ASSERT_TRUE(queue_->Enqueue(EncodeJob({.image_id = id, .enqueued_at_ms = NowMs()})));
    }
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  const std::vector<Json::Value> received = failed.Await(2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0]["id"].asString(), id);
  EXPECT_TRUE(received[0]["settled"].asBool()) << received[0];
  EXPECT_EQ(received[1]["id"].asString(), id);
  EXPECT_FALSE(received[1].isMember("settled")) << received[1];
  auto image = catalog_->GetImage(id);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, catalog::ImageStatus::kFailed);
}

// An image failed for good is logged: a file missing from the store is the operator's to see,
// and the failure showed only in the image's record and a counter.
TEST_F(WorkerTest, AnImageThatFailsForGoodIsLogged) {
  const std::string id = UploadSamples(1).front();
  ASSERT_TRUE(blobs_->Delete(InputKey(id)));
  ::testing::internal::CaptureStderr();
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(
      logged.find("image " + id + " failed: the uploaded file is missing from the blob store"),
      std::string::npos)
      << logged;
}

TEST_F(WorkerTest, RedeliveredFinishedJobRestoresALostOutputObjectWithoutClassifyingAgain) {
  const std::string id = UploadSamples(1).front();
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  auto before = catalog_->GetImage(id);
  ASSERT_TRUE(before && before->status == catalog::ImageStatus::kDone);
  const Json::Value original = OutputObject(id);
  // A crash after the result reached the catalog but before the output object was written,
  // and the job that comes back.
  ASSERT_TRUE(blobs_->Delete(OutputKey(id)));
  ASSERT_TRUE(queue_->Enqueue(EncodeJob({.image_id = id, .enqueued_at_ms = NowMs()})));
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  EXPECT_EQ(OutputObject(id), original);
  auto after = catalog_->GetImage(id);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->finished_at_ms, before->finished_at_ms) << "classified a second time";
}

TEST_F(WorkerTest, BatchKeepsOnlyTheImagesItCanClassifyAndSettlesTheRest) {
  // One batch, in queue order: an image removed while queued, one whose bytes are gone, one
  // whose bytes are not an image, then a photo, whose tensor must move to the batch's
  // first slot.
  const std::vector<std::string> ids = UploadSamples(3);
  ASSERT_TRUE(catalog_->Remove("", ids[0], [] { return Result<void>(); }));
  ASSERT_TRUE(blobs_->Delete(InputKey(ids[1])));
  const std::string corrupt = "not a picture at all";
  ASSERT_TRUE(blobs_->Put(InputKey(ids[2]), AsBytes(corrupt), "image/jpeg",
                          blob::Durability::kRecreatable));
  const std::filesystem::path photo = kSamples / "n01582220_magpie.JPEG";
  const std::string photo_id = Upload(photo);
  {
    std::jthread worker = StartWorker({.max_batch = 8, .decode_threads = 2});
    ASSERT_TRUE(WaitForEmptyQueue());
  }

  EXPECT_EQ(catalog_->GetImage(ids[0]).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(blobs_->Exists(OutputKey(ids[0])), false);
  auto missing = catalog_->GetImage(ids[1]);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, catalog::ImageStatus::kFailed);
  EXPECT_NE(missing->error.find("missing"), std::string::npos) << missing->error;
  auto undecodable = catalog_->GetImage(ids[2]);
  ASSERT_TRUE(undecodable);
  EXPECT_EQ(undecodable->status, catalog::ImageStatus::kFailed);
  EXPECT_FALSE(undecodable->error.empty());

  EXPECT_TRUE(StoredAsClassifiedAlone(photo_id, photo));
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->dead, 0u);
}

// The web tier deletes an image while a worker classifies it: it removes the catalog entry,
// then the image's objects. Whenever that happens, no output object may outlive it.
TEST_F(WorkerTest, AnImageRemovedWhileBeingClassifiedLeavesNoOutputObject) {
  std::mutex mutex;
  std::vector<std::string> removed;
  auto subscription = events_->Subscribe([&](std::string_view payload) {
    const Json::Value message = ParseJson(payload);
    if (message["kind"] != "images") return;
    for (const Json::Value& event : message["events"]) {
      if (event["status"] != "processing") continue;
      const std::string id = event["id"].asString();
      ASSERT_TRUE(catalog_->Remove("", id, [&] { return blobs_->Delete(InputKey(id)); }));
      ASSERT_TRUE(blobs_->Delete(OutputKey(id)));
      std::lock_guard lock(mutex);
      removed.push_back(id);
    }
  });
  ASSERT_TRUE(subscription) << subscription.error().message;
  const std::vector<std::string> ids = UploadSamples(4);
  {
    std::jthread worker = StartWorker({.max_batch = 4});
    ASSERT_TRUE(WaitUntil(
        [&] {
          std::lock_guard lock(mutex);
          return removed.size() == ids.size();
        },
        60s));
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  for (const std::string& id : ids) {
    EXPECT_EQ(catalog_->GetImage(id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(blobs_->Exists(OutputKey(id)), false) << id;
  }
}

// A photo deleted while its job waited, and uploaded again right after the worker found its
// file gone: the new upload's round had been failed for good, "missing from the blob store".
TEST_F(WorkerTest, APhotoUploadedAgainWhileItsOldJobFoundNoFileIsClassified) {
  const std::filesystem::path photo = kSamples / "n01440764_tench.JPEG";
  const std::string id = Upload(photo);
  ASSERT_TRUE(catalog_->Remove("", id, [&] { return blobs_->Delete(InputKey(id)); }));
  blob::StoreWithAStepAfterARead store(*blobs_, InputKey(id), [&] { Upload(photo); });
  worker_ = std::make_unique<Worker>(*classifier_, *queue_, *catalog_, store, *events_,
                                     WorkerOptions{.retry_delay = 0ms});
  {
    std::jthread worker([this](const std::stop_token& stop) { worker_->Run(stop); });
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  auto image = catalog_->GetImage(id);
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->status, catalog::ImageStatus::kDone) << image->error;
  EXPECT_TRUE(StoredAsClassifiedAlone(id, photo));
  EXPECT_EQ(queue_->Stats()->dead, 0u);
}

TEST_F(WorkerTest, AnImageDecodedAheadIsClassifiedAsOnReceiptAndCountedInItsBatch) {
  Announced<BatchEvent> batches(*events_, BatchEvents);

  const std::filesystem::path photo = kSamples / "n01582220_magpie.JPEG";
  auto bytes = image::ReadFile(photo, 1 << 24);
  ASSERT_TRUE(bytes);
  const std::string id = Sha256Hex({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
  DecodeAhead ahead(DecodeAheadFolder(dir_), *classifier_, *blobs_, {});
  ASSERT_TRUE(ahead.Start());
  std::jthread worker = StartWorker({}, false, &ahead);
  // As the web tier does: the bytes are stored and announced before the job is queued. The
  // job waits here until the decoding has begun, which a real upload does not.
  ASSERT_TRUE(blobs_->Put(InputKey(id), *bytes, "image/jpeg", blob::Durability::kRecreatable));
  queue::WakeChannel web_tier(DecodeAheadFolder(dir_));
  AnnounceUpload(web_tier, id);
  ASSERT_TRUE(WaitUntil([&] { return ahead.started() == 1; }, 30s));
  EXPECT_EQ(Upload(photo), id);
  ASSERT_TRUE(WaitForEmptyQueue());

  EXPECT_EQ(ahead.taken(), 1u);
  std::vector<BatchEvent> seen = batches.Await(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].size, 1u);
  EXPECT_EQ(seen[0].decoded_ahead, 1u);
  EXPECT_TRUE(StoredAsClassifiedAlone(id, photo));

  // A job that was not announced is decoded on receipt.
  const std::string other = UploadSamples(1).front();
  ASSERT_TRUE(WaitForEmptyQueue());
  seen = batches.Await(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].decoded_ahead, 0u);
  auto record = catalog_->GetImage(other);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->status, catalog::ImageStatus::kDone);
}

// A batch that waits for more jobs longer than the visibility timeout keeps the jobs it
// has hidden meanwhile, rather than receiving them again.
TEST_F(WorkerTest, JobsStayHiddenWhileTheirBatchWaitsForMore) {
  queue_.reset();
  auto queue =
      queue::OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {.visibility_timeout = 1s});
  ASSERT_TRUE(queue) << queue.error().message;
  queue_ = std::move(*queue);
  Announced<BatchEvent> batches(*events_, BatchEvents);

  const std::vector<std::string> ids = UploadSamples(2);
  {
    std::jthread worker =
        StartWorker({.max_batch = 8, .max_batch_delay = 4000ms, .visibility_timeout = 1000ms});
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  for (const std::string& id : ids) {
    auto record = catalog_->GetImage(id);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, catalog::ImageStatus::kDone) << id << ": " << record->error;
  }
  const std::vector<BatchEvent> seen = batches.Await(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].size, ids.size()) << "each job once";
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->dead, 0u);
}

// A job delivered more often than --max-attempts, once at least with no other image in its
// worker's hands, fails its image and goes to the dead letters, and the operator reads it in
// the log.
TEST_F(WorkerTest, AJobOverItsAttemptsFailsItsImageGoesToTheDeadLettersAndIsLogged) {
  Announced<Json::Value> failed(*events_, ImageEventsOf("failed"));
  const std::string id = UploadSamples(1).front();
  // An attempt alone that ended without an outcome, as a crash ends it.
  ASSERT_TRUE(catalog_->StartProcessingAlone(id, NowMs()));
  for (int delivery = 0; delivery < 2; ++delivery) {
    auto received = queue_->Receive(1, 1s);
    ASSERT_TRUE(received && received->size() == 1);
    ASSERT_TRUE(queue_->Release(received->front(), 0ms));
  }
  ::testing::internal::CaptureStderr();
  {
    std::jthread worker = StartWorker({.max_attempts = 2});
    ASSERT_TRUE(WaitUntil(
        [this] {
          auto stats = queue_->Stats();
          return stats && stats->dead == 1;
        },
        30s, 20ms));
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  const std::vector<Json::Value> announced = failed.Await(1);
  ASSERT_EQ(announced.size(), 1u);
  EXPECT_TRUE(announced[0]["settled"].asBool()) << announced[0];
  const std::string expected =
      "image " + id +
      " failed and its job went to the dead letters: gave up after 2 attempts: its worker "
      "stopped before finishing it, also with no other image";
  EXPECT_NE(logged.find(expected), std::string::npos) << logged;
  auto image = catalog_->GetImage(id);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, catalog::ImageStatus::kFailed);
}

// A worker's crash costs every job in its hands a delivery. Jobs over --max-attempts that were
// never the only one in a worker's hands are therefore tried once more, each alone, before
// their images are given up: here two of them, besides two fresh jobs batched together.
TEST_F(WorkerTest, AJobOverItsAttemptsNeverTriedAloneIsTriedAloneBeforeItIsGivenUp) {
  Announced<BatchEvent> batches(*events_, BatchEvents);
  const std::vector<std::string> ids = UploadSamples(4);
  for (int delivery = 0; delivery < 2; ++delivery) {
    auto received = queue_->Receive(2, 1s);
    ASSERT_TRUE(received && received->size() == 2);
    for (const queue::Message& message : *received) ASSERT_TRUE(queue_->Release(message, 0ms));
  }
  ::testing::internal::CaptureStderr();
  {
    std::jthread worker = StartWorker({.max_attempts = 2});
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto image = catalog_->GetImage(ids[i]);
    ASSERT_TRUE(image);
    EXPECT_EQ(image->status, catalog::ImageStatus::kDone) << image->error;
    EXPECT_EQ(image->solo_attempts, i < 2 ? 1 : 0) << i;
    EXPECT_EQ(logged.find("image " + ids[i] + " is over its attempts: trying it alone") !=
                  std::string::npos,
              i < 2)
        << logged;
  }
  std::vector<std::size_t> sizes;
  for (const BatchEvent& batch : batches.Await(3)) sizes.push_back(batch.size);
  std::ranges::sort(sizes);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 1, 2}));
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->dead, 0u);
}

// A job that comes back over its attempts for an image finished meanwhile does not fail it.
TEST_F(WorkerTest, AJobOverItsAttemptsForAFinishedImageLeavesItDone) {
  Announced<Json::Value> failed(*events_, ImageEventsOf("failed"));
  const std::string id = UploadSamples(1).front();
  {
    std::jthread worker = StartWorker();
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  ASSERT_TRUE(queue_->Enqueue(EncodeJob({.image_id = id, .enqueued_at_ms = NowMs()})));
  for (int delivery = 0; delivery < 2; ++delivery) {
    auto received = queue_->Receive(1, 1s);
    ASSERT_TRUE(received && received->size() == 1);
    ASSERT_TRUE(queue_->Release(received->front(), 0ms));
  }
  {
    std::jthread worker = StartWorker({.max_attempts = 2});
    ASSERT_TRUE(WaitForEmptyQueue());
  }
  auto image = catalog_->GetImage(id);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, catalog::ImageStatus::kDone) << image->error;
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->dead, 0u);
  std::this_thread::sleep_for(200ms);  // for a failed event, were one sent
  EXPECT_TRUE(failed.SoFar().empty());
}

// An output object that the store answers but cannot take (here its folder is a file) leaves
// the image done, and after --max-attempts deliveries its job goes to the dead letters, named;
// before, it was delivered again without end.
TEST_F(WorkerTest, AnOutputObjectThatCannotBeWrittenEndsInTheDeadLettersNotInEndlessRetries) {
  const std::string id = UploadSamples(1).front();
  std::ofstream(dir_ / "blobs" / "outputs") << "not a folder";
  ::testing::internal::CaptureStderr();
  {
    std::jthread worker = StartWorker({.max_attempts = 3, .retry_delay = 50ms});
    ASSERT_TRUE(WaitForEmptyQueue(30s));
  }
  const std::string logged = ::testing::internal::GetCapturedStderr();
  auto image = catalog_->GetImage(id);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, catalog::ImageStatus::kDone) << image->error;
  auto dead = queue_->ListDeadLetters(10);
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_TRUE(
      dead->front().reason.starts_with("the output object could not be written after 3 attempts: "))
      << dead->front().reason;
  EXPECT_NE(logged.find("image " + id + " is done but its job went to the dead letters"),
            std::string::npos)
      << logged;
}

TEST_F(WorkerTest, StopFinishesTheBatchesInHandAndLeavesTheRestQueued) {
  const std::vector<std::string> ids = UploadSamples(60);
  {
    std::jthread worker = StartWorker({.max_batch = 4, .decode_threads = 1});
    // Stop as soon as the first results are in, with later batches in every stage.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto record = catalog_->GetImage(ids.front());
      if (record && record->status == catalog::ImageStatus::kDone) break;
      std::this_thread::sleep_for(5ms);
    }
  }  // requests stop and waits for Run to return
  auto stats = queue_->Stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->in_flight, 0u) << "a job was taken and left unfinished";
  std::size_t done = 0;
  for (const std::string& id : ids) {
    auto record = catalog_->GetImage(id);
    ASSERT_TRUE(record);
    EXPECT_NE(record->status, catalog::ImageStatus::kFailed) << record->error;
    done += record->status == catalog::ImageStatus::kDone;
  }
  EXPECT_GT(done, 0u);
  EXPECT_EQ(done + stats->ready, ids.size()) << "every image is either classified or queued";
}

// An S3 outage longer than the retries' pauses (three deliveries a second apart) used to
// fail the images in hand for good. The batch now holds its jobs until the store answers.
TEST_F(WorkerTest, ABlobStoreOutageHoldsTheBatchInsteadOfFailingItsImages) {
  auto s3rver = blob::S3rver::Start();
  ASSERT_TRUE(s3rver) << s3rver.error().message;
  auto s3 = blob::OpenBlobStore((*s3rver)->Url("outage", false));
  ASSERT_TRUE(s3) << s3.error().message;
  blobs_ = std::move(*s3);
  const std::vector<std::string> ids = UploadSamples(3);

  (*s3rver)->Stop();
  std::jthread worker = StartWorker({.max_attempts = 3, .retry_delay = 200ms});
  ASSERT_TRUE(WaitForJobsInFlight());
  std::this_thread::sleep_for(3s);  // fifteen retry delays
  ASSERT_TRUE((*s3rver)->Restart());

  ASSERT_NO_FATAL_FAILURE(ExpectDoneWithoutLostAttempts(ids));
}

// A catalog whose server stops answering while jobs are taken (PostgreSQL with its connections
// open, a network dropping packets): the worker holds the batch until the catalog answers
// again, and no image loses an attempt. Giving the jobs back instead used up their deliveries
// in seconds and failed the images for good.
TEST_F(WorkerTest, ACatalogOutageHoldsTheBatchInsteadOfFailingItsImages) {
  auto database = catalog::PostgresTestDatabase::Create("argus_worker_test");
  ASSERT_TRUE(database) << database.error().message;
  auto postgres = catalog::OpenCatalog(database->url());
  ASSERT_TRUE(postgres) << postgres.error().message;
  catalog_ = std::move(*postgres);
  const std::vector<std::string> ids = UploadSamples(3);

  auto frozen = catalog::FrozenBackends::Freeze(database->server_url(), database->name());
  ASSERT_TRUE(frozen) << frozen.error().message;
  std::jthread worker = StartWorker({.max_attempts = 3, .retry_delay = 200ms});
  ASSERT_TRUE(WaitForJobsInFlight());
  std::this_thread::sleep_for(8s);  // the catalog's answer wait, then forty retry delays
  frozen->Resume();

  ASSERT_NO_FATAL_FAILURE(ExpectDoneWithoutLostAttempts(ids));
  worker.request_stop();
  worker.join();
  catalog_.reset();  // before its database is dropped
}

}  // namespace
}  // namespace argus::worker
