// End-to-end tests of the cluster profile (docs/CLUSTER.md): a real nats-server with
// JetStream, PostgreSQL (from scripts/with-postgres), s3rver and the real binary as two
// `argus web` replicas with `argus scaler` or `argus worker` processes, all on loopback.
#include <curl/curl.h>
#include <drogon/HttpClient.h>
#include <drogon/UploadFile.h>
#include <drogon/orm/DbClient.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <json/json.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <format>
#include <fstream>
#include <future>
#include <iterator>
#include <latch>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "blob/s3_blob_store.h"
#include "blob/s3rver_for_tests.h"
#include "catalog/catalog_url.h"
#include "catalog/postgres_test_database.h"
#include "db/drogon_client.h"
#include "events/nats_test_server.h"
#include "serve_process.h"

namespace argus::e2e {
namespace {

using ::testing::HasSubstr;

// Short, so that the jobs of a killed worker come back within seconds.
constexpr int kVisibilityTimeoutS = 3;

// The keys under `prefix` in the bucket of the s3:// `url`, listed with S3's ListObjectsV2.
Result<std::set<std::string>> ListKeys(const std::string& url, const std::string& prefix) {
  auto options = blob::ParseS3Url(std::string_view(url).substr(std::string_view("s3://").size()));
  if (!options) return std::unexpected(options.error());
  blob::S3Client client(*options);
  auto listed = client.Send(
      {.method = "GET", .query = {{"list-type", "2"}, {"max-keys", "1000"}, {"prefix", prefix}}});
  if (!listed) return std::unexpected(listed.error());
  const std::string body(reinterpret_cast<const char*>(listed->body.data()), listed->body.size());
  if (listed->status != 200) {
    return Fail(ErrorCode::kIo,
                std::format("listing {}: HTTP {} {}", prefix, listed->status, body));
  }
  if (body.find("<IsTruncated>true</IsTruncated>") != std::string::npos) {
    return Fail(ErrorCode::kInternal, "listing " + prefix + ": more than one page of keys");
  }
  std::set<std::string> keys;
  constexpr std::string_view kOpen = "<Key>", kClose = "</Key>";
  for (std::size_t at = body.find(kOpen); at != std::string::npos; at = body.find(kOpen, at)) {
    at += kOpen.size();
    keys.insert(body.substr(at, body.find(kClose, at) - at));
  }
  return keys;
}

// The id of `web`'s latest event: server-sent events read after it are only later ones.
std::string EventsStartNow(ServeProcess& web) {
  const HttpResult ready = web.Get("/api/v1/events");
  EXPECT_THAT(ready.body, HasSubstr("event: ready"));
  const std::size_t at = ready.body.find("id: ");
  if (at == std::string::npos) return "";
  return ready.body.substr(at + 4, ready.body.find('\n', at) - at - 4);
}

// Reads `web`'s server-sent events after the id `after` until each of `ids` has been in one
// (or a minute has passed); returns those that have not.
std::set<std::string> MissingFromEvents(ServeProcess& web, std::string after,
                                        const std::vector<std::string>& ids) {
  std::set<std::string> missing(ids.begin(), ids.end());
  Json::CharReaderBuilder builder;
  const std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (!missing.empty() && std::chrono::steady_clock::now() < deadline) {
    const HttpResult events = web.Get("/api/v1/events", {{"Last-Event-ID", after}});
    if (events.status != 200) break;
    std::istringstream lines(events.body);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("id: ")) after = line.substr(4);
      if (!line.starts_with("data: ")) continue;
      Json::Value image;
      if (reader->parse(line.data() + 6, line.data() + line.size(), &image, nullptr)) {
        missing.erase(image["id"].asString());
      }
    }
  }
  return missing;
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* postgres = std::getenv(catalog::kTestPostgresUrlVariable);
    ASSERT_TRUE(postgres != nullptr && *postgres != '\0')
        << catalog::kTestPostgresUrlVariable
        << " is unset: run the tests through scripts/with-postgres (make test does), or set it "
           "to the URL of a PostgreSQL server whose user may CREATE DATABASE";
    postgres_url_ = postgres;
    static std::atomic<int> databases = 0;
    const std::string database = std::format("argus_cluster_test_{}_{}", getpid(), databases++);
    const auto created = catalog::RunPostgres(postgres_url_, "CREATE DATABASE " + database);
    ASSERT_TRUE(created) << created.error().message;
    database_ = database;
    catalog_url_ = catalog::WithDatabase(postgres_url_, database_);

    auto nats = nats::TestServer::Start(dir_.path() / "nats");
    ASSERT_TRUE(nats) << nats.error().message;
    nats_ = std::move(*nats);

    auto s3rver = blob::SharedS3rver();
    ASSERT_TRUE(s3rver) << s3rver.error().message;
    blobs_url_ = (*s3rver)->Url(blob::NewBucketName(), false);
  }

  void TearDown() override {
    webs_.clear();
    processes_.clear();
    if (database_.empty()) return;
    const auto dropped = catalog::RunPostgres(
        postgres_url_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
    EXPECT_TRUE(dropped) << dropped.error().message;
  }

  // What every process of the cluster is given: the shared services and one visibility
  // timeout.
  std::vector<std::string> ClusterArguments() const {
    return {"--catalog=" + catalog_url_, "--queue=" + nats_->url(), "--blobs=" + blobs_url_,
            "--events=" + nats_->url(),
            "--visibility-timeout=" + std::to_string(kVisibilityTimeoutS)};
  }

  // Starts the two web replicas at the same moment, as a deployment does (they race to
  // migrate the catalog and to create the bucket, stream and consumer), then signs up the
  // administrator on the first and gives its API token to both.
  void StartWebs(const std::vector<std::string>& extra_arguments = {}) {
    for (const char* name : {"web-a", "web-b"}) {
      webs_.push_back(std::make_unique<ServeProcess>(dir_.path() / name, "web"));
    }
    std::vector<std::string> arguments = ClusterArguments();
    arguments.insert(arguments.end(), extra_arguments.begin(), extra_arguments.end());
    {
      std::vector<std::jthread> starting;
      starting.reserve(webs_.size());
      for (auto& web : webs_) {
        starting.emplace_back([&arguments, &replica = *web] { replica.Start(arguments); });
      }
    }
    for (auto& web : webs_) ASSERT_TRUE(web->running()) << web->log().substr(0, 6000);
    webs_[1]->UseToken(webs_[0]->UseNewAccount("owner@example.com"));
  }

  ServeProcess& WebA() { return *webs_[0]; }
  ServeProcess& WebB() { return *webs_[1]; }

  // `argus scaler`, ready once its first worker has loaded the model.
  ArgusProcess& StartScaler(int min_workers, int max_workers) {
    std::vector<std::string> arguments = ClusterArguments();
    arguments.push_back(std::format("--min-workers={}", min_workers));
    arguments.push_back(std::format("--max-workers={}", max_workers));
    // The tests run every process on one machine, whose cores they keep busy: demand alone
    // decides here, as it would with a machine per worker.
    arguments.emplace_back("--scale-out-idle-cores=0");
    // Not the default port, which anything else on the machine may hold.
    const auto metrics_port = nats::FreePort();
    EXPECT_TRUE(metrics_port) << metrics_port.error().message;
    arguments.push_back(std::format("--metrics-port={}", metrics_port.value_or(0)));
    return StartProcess("scaler", "scaler", arguments, "ready with model");
  }

  ArgusProcess& StartWorker(const std::string& name) {
    return StartProcess(name, "worker", ClusterArguments(), "ready with model");
  }

  // /api/v1/ops/status through `web`, as the administrator.
  Json::Value OpsStatus(ServeProcess& web) {
    const HttpResult status = web.Get("/api/v1/ops/status");
    EXPECT_EQ(status.status, 200) << status.body;
    return status.json;
  }

  // Waits until no job is ready or in flight (acknowledgements follow the stored results),
  // and returns the status then.
  Json::Value StatusOnceDrained(ServeProcess& web) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    Json::Value status = OpsStatus(web);
    while ((status["queue"]["ready"].asInt() > 0 || status["queue"]["in_flight"].asInt() > 0) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      status = OpsStatus(web);
    }
    return status;
  }

  // What `request` answered, and how long it took.
  template <typename Request>
  static std::pair<HttpResult, std::chrono::steady_clock::duration> Timed(Request&& request) {
    const auto start = std::chrono::steady_clock::now();
    HttpResult result = request();
    return {std::move(result), std::chrono::steady_clock::now() - start};
  }

  // Checks, through the first replica, that every image of `ids` ends done and that no image
  // failed and no job was dead-lettered.
  void ExpectAllDoneNoneLost(const std::vector<std::string>& ids) {
    const auto records = WebA().AwaitAll(ids, 60);
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i]["status"].asString(), "done")
          << ids[i] << " " << records[i].toStyledString();
    }
    const Json::Value status = StatusOnceDrained(WebA());
    EXPECT_EQ(status["images"]["failed"].asInt(), 0);
    EXPECT_EQ(status["queue"]["dead"].asInt(), 0);
  }

  // Checks that every id has its result object in the bucket, and that the bucket holds as
  // many result objects as the catalog has finished images.
  void ExpectOneOutputPerDoneImage(const std::vector<std::string>& ids, std::int64_t done) {
    const auto outputs = ListKeys(blobs_url_, "outputs/");
    ASSERT_TRUE(outputs) << outputs.error().message;
    EXPECT_EQ(static_cast<std::int64_t>(outputs->size()), done);
    for (const std::string& id : ids) {
      EXPECT_TRUE(outputs->contains("outputs/" + id + ".json")) << id;
    }
  }

  TempDir dir_;
  std::string postgres_url_;
  std::string database_;
  std::string catalog_url_;
  std::string blobs_url_;
  std::unique_ptr<nats::TestServer> nats_;
  std::vector<std::unique_ptr<ServeProcess>> webs_;
  std::vector<std::unique_ptr<ArgusProcess>> processes_;

  ArgusProcess& StartProcess(const std::string& name, const std::string& command,
                             const std::vector<std::string>& arguments,
                             std::string_view ready_text) {
    processes_.push_back(std::make_unique<ArgusProcess>(dir_.path() / name, command));
    processes_.back()->Start(arguments, ready_text);
    return *processes_.back();
  }
};

// A cold start of a whole deployment with NATS last up: the web tiers and the scaler wait
// for it, as workers do, where they exited 2 and their supervisor restarted them with growing
// delays, long after NATS was back.
TEST_F(ClusterTest, TheWebTierAndTheScalerStartedBeforeNatsWaitForIt) {
  nats_->Stop(SIGTERM);
  std::jthread starting_scaler([this] { StartScaler(1, 1); });
  std::jthread starting_nats([this] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    const auto launched = nats_->Launch();
    EXPECT_TRUE(launched) << launched.error().message;
  });
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  starting_scaler.join();
  ASSERT_EQ(processes_.size(), 1u);
  ArgusProcess& scaler = *processes_.front();
  ASSERT_TRUE(scaler.running()) << scaler.log().substr(0, 6000);
  EXPECT_THAT(WebA().log(), HasSubstr("waiting for the stores: queue: cannot connect to NATS"));
  EXPECT_THAT(scaler.log(), HasSubstr("waiting for the stores: queue: cannot connect to NATS"));

  const auto files = SamplePhotos();
  const std::vector<std::string> ids =
      UploadConcurrently(WebB(), std::vector(files.begin(), files.begin() + 10), 5, 2);
  ASSERT_EQ(ids.size(), 10u);
  ExpectAllDoneNoneLost(ids);
}

// A web tier told to stop while it waits for its stores stops at once.
TEST_F(ClusterTest, AWebTierWaitingForItsStoresStopsWhenTold) {
  nats_->Stop(SIGTERM);
  const auto port = nats::FreePort();
  ASSERT_TRUE(port) << port.error().message;
  std::vector<std::string> arguments = ClusterArguments();
  arguments.push_back(std::format("--port={}", *port));
  ArgusProcess& web = StartProcess("web", "web", arguments, "waiting for the stores");
  ASSERT_TRUE(web.running());
  EXPECT_EQ(web.Terminate(std::chrono::seconds(5)), 0) << web.log();
  EXPECT_THAT(web.log(), HasSubstr("stopped while waiting for the stores"));
}

// --durability governs only stores on the replica's machine; in the cluster profile the
// servers decide, so the operations status does not claim a durability.
TEST_F(ClusterTest, TheOpsStatusShowsNoDurabilityWhenNoStoreFollowsIt) {
  ASSERT_NO_FATAL_FAILURE(StartWebs({"--durability=power"}));
  const Json::Value status = OpsStatus(WebA());
  EXPECT_TRUE(status.isMember("queue")) << status.toStyledString();
  EXPECT_FALSE(status.isMember("durability")) << status.toStyledString();
}

// The classic course workload, 100 requests at once, each to the next replica in turn.
TEST_F(ClusterTest, CourseWorkloadAcrossTwoWebReplicasAllGetLabels) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& scaler = StartScaler(1, 2);
  ASSERT_TRUE(scaler.running());
  const auto files = CourseImages();
  const std::vector<HttpResult> results =
      ClassifyConcurrently({webs_[0].get(), webs_[1].get()}, files);
  std::size_t labelled = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, 200) << files[i] << ": " << results[i].body;
    EXPECT_THAT(results[i].content_type, HasSubstr("text/plain"));
    EXPECT_EQ(results[i].body.find('\n'), std::string::npos);
    labelled += results[i].status == 200 && !results[i].body.empty();
  }
  EXPECT_EQ(labelled, files.size());
  EXPECT_EQ(scaler.Terminate(), 0);
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

// The 500 labelled photos, half through each replica, each half read back through the other
// one, reach the accuracy of the serve test (`argus classify`'s).
TEST_F(ClusterTest, LabelledPhotosThroughBothReplicasReachTheEngineAccuracy) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& scaler = StartScaler(1, 2);
  ASSERT_TRUE(scaler.running());
  const auto files = SamplePhotos();
  ASSERT_EQ(files.size(), 500u);
  const std::vector<std::filesystem::path> first_half(files.begin(), files.begin() + 250);
  const std::vector<std::filesystem::path> second_half(files.begin() + 250, files.end());
  const std::string events_on_a = EventsStartNow(WebA());
  const std::string events_on_b = EventsStartNow(WebB());
  std::vector<std::string> ids_a, ids_b;
  {
    std::jthread upload_a([&] { ids_a = UploadConcurrently(WebA(), first_half, 10, 2); });
    std::jthread upload_b([&] { ids_b = UploadConcurrently(WebB(), second_half, 10, 2); });
  }
  ASSERT_EQ(ids_a.size(), first_half.size());
  ASSERT_EQ(ids_b.size(), second_half.size());
  std::vector<Json::Value> records = WebB().AwaitAll(ids_a);
  std::ranges::move(WebA().AwaitAll(ids_b), std::back_inserter(records));

  ExpectEngineAccuracy(records);
  // Every replica hears of every result over NATS, not only the one that took the upload.
  EXPECT_THAT(MissingFromEvents(WebB(), events_on_b, ids_a), ::testing::IsEmpty());
  EXPECT_THAT(MissingFromEvents(WebA(), events_on_a, ids_b), ::testing::IsEmpty());

  const Json::Value status = StatusOnceDrained(WebA());
  EXPECT_EQ(status["images"]["done"].asInt(), 500);
  EXPECT_EQ(status["images"]["queued"].asInt(), 0);
  EXPECT_EQ(status["images"]["failed"].asInt(), 0);
  EXPECT_EQ(status["queue"]["ready"].asInt(), 0);
  EXPECT_EQ(status["queue"]["in_flight"].asInt(), 0);
  EXPECT_EQ(status["queue"]["dead"].asInt(), 0);
  std::vector<std::string> ids = ids_a;
  ids.insert(ids.end(), ids_b.begin(), ids_b.end());
  ExpectOneOutputPerDoneImage(ids, 500);
  // Each replica counts the results it hears in a queue group with the other, so their
  // counts add up to the images done rather than each counting all of them.
  const std::string done = "argus_images_total{status=\"done\"}";
  double counted_a = 0, counted_b = 0;
  for (int i = 0; i < 200 && counted_a + counted_b < 500; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    counted_a = WebA().Metric(done);
    counted_b = WebB().Metric(done);
  }
  EXPECT_EQ(counted_a + counted_b, 500);
  EXPECT_GT(counted_a, 0);
  EXPECT_GT(counted_b, 0);
  // 500 waiting jobs are more than one worker's share: the scaler added the second.
  EXPECT_EQ(LinesWith(scaler.log(), {"\"action\":\"scale_out\"", "\"from\":1", "\"to\":2"}), 1u)
      << scaler.log().substr(0, 6000);
  EXPECT_EQ(scaler.Terminate(), 0);
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

// A client of the event stream that lands on the other replica when it reconnects (the load
// balancer keeps no sessions) and sends the last id it saw gets the later events there, in
// either direction: event ids used to start from each process's start time, so one of the
// two directions skipped them.
TEST_F(ClusterTest, AnEventStreamThatMovesToTheOtherReplicaMissesNoLaterEvent) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  const auto files = SamplePhotos();
  std::size_t next_file = 0;
  for (auto [from, to] : {std::pair{&WebA(), &WebB()}, std::pair{&WebB(), &WebA()}}) {
    std::string seen = EventsStartNow(*from);
    const std::vector<std::string> first = UploadConcurrently(*from, {files[next_file++]}, 1, 1);
    ASSERT_EQ(first.size(), 1U);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (bool found = false; !found && std::chrono::steady_clock::now() < deadline;) {
      const HttpResult events = from->Get("/api/v1/events", {{"Last-Event-ID", seen}});
      found = events.body.find(first[0]) != std::string::npos;
      if (const auto at = events.body.rfind("id: "); at != std::string::npos) {
        seen = events.body.substr(at + 4, events.body.find('\n', at) - at - 4);
      }
    }
    const std::vector<std::string> second = UploadConcurrently(*from, {files[next_file++]}, 1, 1);
    ASSERT_EQ(second.size(), 1U);
    EXPECT_THAT(MissingFromEvents(*to, seen, second), ::testing::IsEmpty())
        << "moving from port " << from->port() << " to " << to->port();
  }
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

// One account deletes the last copy of each photo through one replica while another account
// uploads the same photo through the other: every upload answered 202 keeps its bytes and is
// classified. The replicas share no lock; the catalog's image row orders the two.
TEST_F(ClusterTest, AnUploadRacingTheDeletionOfTheSameContentOnTheOtherReplicaKeepsItsBytes) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& worker = StartWorker("worker");
  ASSERT_TRUE(worker.running());
  const std::string owner = WebA().bearer();
  const std::string bob = WebB().UseNewAccount("bob@example.com");
  const auto all = SamplePhotos();
  const std::vector<std::filesystem::path> photos(all.begin(), all.begin() + 40);
  const std::vector<std::string> owner_ids = UploadConcurrently(WebA(), photos, 1, 2);
  ASSERT_EQ(owner_ids.size(), photos.size());
  WebA().AwaitAll(owner_ids);

  const DeletionRace race =
      RaceDeletionsWithUploads({WebA().port(), owner}, {WebB().port(), bob}, photos);
  for (std::size_t i = 0; i < photos.size(); ++i) {
    EXPECT_EQ(race.deleted[i], 204) << photos[i];
    ASSERT_FALSE(race.uploaded[i].empty()) << photos[i];
  }
  const std::vector<Json::Value> records = WebB().AwaitAll(race.uploaded, 60);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["status"].asString(), "done") << photos[i] << ": " << records[i];
    EXPECT_EQ(WebB().Get("/api/v1/images/" + race.uploaded[i] + "/file").status, 200) << photos[i];
  }
  EXPECT_EQ(worker.Terminate(), 0);
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

// kill -9 of the only worker while it holds jobs, and of one replica while it takes uploads:
// every upload answered 202 ends up done, with one result, read through the other replica.
TEST_F(ClusterTest, KillingAWorkerAndAReplicaMidBurstLosesNoAcceptedUpload) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& first_worker = StartWorker("worker-1");
  ASSERT_TRUE(first_worker.running());
  const auto files = SamplePhotos();
  const std::vector<std::filesystem::path> to_a(files.begin(), files.begin() + 200);
  const std::vector<std::filesystem::path> to_b(files.begin() + 200, files.end());
  std::atomic<std::size_t> answered_by_a = 0;
  std::vector<std::string> ids_a, ids_b;
  std::jthread upload_a([&] { ids_a = UploadConcurrently(WebA(), to_a, 2, 2, &answered_by_a); });
  std::jthread upload_b([&] { ids_b = UploadConcurrently(WebB(), to_b, 2, 2); });

  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!killed && std::chrono::steady_clock::now() < deadline) {
    // In flight means held by the only worker.
    if (answered_by_a >= 40 && OpsStatus(WebB())["queue"]["in_flight"].asInt() > 0) {
      WebA().Kill9();
      first_worker.Kill9();
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(killed) << "never saw replica A answer uploads while the worker held jobs";
  // The replacement a supervisor would start.
  ArgusProcess& second_worker = StartWorker("worker-2");
  upload_a.join();
  upload_b.join();
  ASSERT_GE(ids_a.size(), 40u);
  ASSERT_LT(ids_a.size(), to_a.size()) << "replica A had taken all its uploads before the kill";
  ASSERT_EQ(ids_b.size(), to_b.size());

  std::vector<std::string> ids = ids_a;
  ids.insert(ids.end(), ids_b.begin(), ids_b.end());
  const auto records = WebB().AwaitAll(ids, 180);
  std::size_t done = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["status"].asString(), "done")
        << ids[i] << " " << records[i].toStyledString();
    done += records[i]["status"].asString() == "done" && !records[i]["labels"].empty();
  }
  EXPECT_EQ(done, ids.size());

  // Uploads that replica A took in without answering may be done too, or wait for a client
  // to send them again; none failed, none is stuck in the queue.
  const Json::Value status = StatusOnceDrained(WebB());
  EXPECT_GE(status["images"]["done"].asInt64(), static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(status["images"]["failed"].asInt(), 0);
  EXPECT_EQ(status["images"]["processing"].asInt(), 0);
  EXPECT_EQ(status["queue"]["ready"].asInt(), 0);
  EXPECT_EQ(status["queue"]["in_flight"].asInt(), 0);
  EXPECT_EQ(status["queue"]["dead"].asInt(), 0);
  ExpectOneOutputPerDoneImage(ids, status["images"]["done"].asInt64());
  EXPECT_EQ(second_worker.Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

// PostgreSQL keeps the catalog's connections open and stops answering (its processes for the
// catalog's database are stopped, as a hung server or a network dropping packets would leave
// them): a request waits at most the catalog's answer wait, later ones get 503 at once, the
// health check answers, and the jobs a worker takes meanwhile are held until the server
// answers again, then all classified. Requests used to wait 30 s each, the health check as
// long, and the jobs used up their attempts and failed.
TEST_F(ClusterTest, APostgresServerThatStopsAnsweringFailsRequestsQuicklyAndLosesNoUpload) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& worker = StartWorker("worker");
  ASSERT_TRUE(worker.running());
  // The jobs wait for a stopped worker, which takes them once the server is silent.
  ASSERT_EQ(::kill(worker.pid(), SIGSTOP), 0);
  const auto files = SamplePhotos();
  const std::vector<std::string> ids =
      UploadConcurrently(WebA(), {files.begin(), files.begin() + 4}, 1, 1);
  ASSERT_EQ(ids.size(), 4u);
  auto frozen = catalog::FrozenBackends::Freeze(postgres_url_, database_);
  ASSERT_TRUE(frozen) << frozen.error().message;
  ASSERT_EQ(::kill(worker.pid(), SIGCONT), 0);

  auto timed_get = [this](const std::string& path) {
    return Timed([&] { return WebA().Get(path); });
  };
  const auto [first, first_took] = timed_get("/api/v1/images");
  EXPECT_EQ(first.status, 503) << first.body;
  EXPECT_LT(first_took, std::chrono::seconds(10));
  const auto [again, again_took] = timed_get("/api/v1/images/" + ids[0]);
  EXPECT_EQ(again.status, 503) << again.body;
  EXPECT_FALSE(again.json["error"]["code"].asString().empty()) << again.body;
  EXPECT_LT(again_took, std::chrono::seconds(1));
  const auto [health, health_took] = timed_get("/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_LT(health_took, std::chrono::seconds(1));
  const auto [ready, ready_took] = timed_get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_LT(ready_took, std::chrono::seconds(1));
  // Every request meets the same failure: the log says so once, not once a request.
  auto web_errors = [this] {
    const std::string log = WebA().log();
    std::size_t count = 0;
    for (std::size_t at = log.find(R"("component":"web","level":"error")"); at != std::string::npos;
         at = log.find(R"("component":"web","level":"error")", at + 1)) {
      ++count;
    }
    return count;
  };
  const std::size_t errors_before = web_errors();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(WebA().Get("/api/v1/images/" + ids[0]).status, 503);
  EXPECT_LE(web_errors(), errors_before + 1) << WebA().log().substr(0, 6000);

  std::this_thread::sleep_for(std::chrono::seconds(3));  // the worker holds its batch
  frozen->Resume();
  ExpectAllDoneNoneLost(ids);
  EXPECT_EQ(WebA().Get("/readyz").status, 200);
  EXPECT_EQ(worker.Terminate(), 0);
}

// nats-server stopped (SIGSTOP) keeps its connections open and answers nothing. The first
// upload costs one reply wait, later ones are refused at once, /healthz is not held up, and
// once the server runs again every accepted upload completes and a refused one sent again is
// accepted.
TEST_F(ClusterTest, ANatsServerThatStopsAnsweringFailsUploadsQuicklyAndLosesNoAcceptedOne) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  ArgusProcess& worker = StartWorker("worker");
  ASSERT_TRUE(worker.running());
  const auto files = SamplePhotos();
  std::vector<std::string> ids =
      UploadConcurrently(WebA(), {files.begin(), files.begin() + 3}, 1, 1);
  ASSERT_EQ(ids.size(), 3u);

  nats_->Pause();
  auto timed_upload = [&](std::size_t file) {
    return Timed([&] { return WebA().Upload("/api/v1/images", {{"file", files[file]}}); });
  };
  const auto [first, first_took] = timed_upload(3);
  EXPECT_EQ(first.status, 503) << first.body;
  EXPECT_LT(first_took, std::chrono::seconds(8));
  const auto [again, again_took] = timed_upload(4);
  EXPECT_EQ(again.status, 503) << again.body;
  EXPECT_LT(again_took, std::chrono::seconds(1));
  const auto [health, health_took] = Timed([&] { return WebA().Get("/healthz"); });
  EXPECT_EQ(health.status, 200) << health.body;
  EXPECT_LT(health_took, std::chrono::seconds(1));
  const auto [ready, ready_took] = Timed([&] { return WebA().Get("/readyz"); });
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_LT(ready_took, std::chrono::seconds(1));

  nats_->Resume();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (WebA().Get("/readyz").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(WebA().Get("/readyz").status, 200) << WebA().log().substr(0, 6000);
  const std::vector<std::string> sent_again =
      UploadConcurrently(WebA(), {files.begin() + 3, files.begin() + 5}, 1, 1);
  ASSERT_EQ(sent_again.size(), 2u) << "the refused photos sent again are accepted";
  ids.insert(ids.end(), sent_again.begin(), sent_again.end());
  ExpectAllDoneNoneLost(ids);
  EXPECT_EQ(worker.Terminate(), 0);
}

// Requests that wait on a silent store hold handler threads, not the HTTP I/O loop: with one
// loop, /healthz, /metrics and the OpenAPI document still answer while three uploads wait on
// a stopped nats-server.
TEST_F(ClusterTest, UploadsWaitingOnASilentServerHoldNoHttpLoop) {
  ASSERT_NO_FATAL_FAILURE(StartWebs({"--http-threads=1"}));
  const auto files = SamplePhotos();
  nats_->Pause();
  // Three clients of their own: WebA()'s client sends one request at a time.
  auto waiting = std::async(std::launch::async, [&] {
    return UploadConcurrently(WebA(), {files.begin(), files.begin() + 3}, 1, 3);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all three are waiting
  for (const char* path : {"/healthz", "/metrics", "/api/openapi.json"}) {
    const auto [answer, took] = Timed([&] { return WebA().Get(path); });
    EXPECT_EQ(answer.status, 200) << path << " " << answer.body;
    EXPECT_LT(took, std::chrono::seconds(1)) << path;
  }
  EXPECT_THAT(waiting.get(), ::testing::IsEmpty()) << "no upload is accepted while NATS is silent";

  nats_->Resume();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (WebA().Get("/readyz").status != 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::vector<std::string> sent_again =
      UploadConcurrently(WebA(), {files.begin(), files.begin() + 3}, 1, 1);
  EXPECT_EQ(sent_again.size(), 3u) << "the refused photos sent again are accepted";
}

// With its one handler thread held by a request waiting on a stopped nats-server, a replica
// keeps 64 requests in hand (that one and 63 queued) and answers the rest 503 "busy" at once.
TEST_F(ClusterTest, RequestsBeyondTheHandlerBacklogAreShedWith503Busy) {
  ASSERT_NO_FATAL_FAILURE(StartWebs({"--handler-threads=1"}));
  const auto files = SamplePhotos();
  nats_->Pause();
  const std::vector<HttpResult> answers =
      ClassifyConcurrently({&WebA()}, {files.begin(), files.begin() + 80});
  nats_->Resume();
  std::size_t busy = 0;
  for (const HttpResult& answer : answers) {
    EXPECT_EQ(answer.status, 503) << answer.body;
    EXPECT_EQ(answer.headers.count("retry-after"), 1u) << answer.body;
    if (answer.json["error"]["code"].asString() == "busy") ++busy;
  }
  EXPECT_EQ(busy, 80u - 64u);
}

// nats-server restarted (same port, same store) while jobs wait with no worker running, and
// again while the workers wait on an empty queue: no job is lost and all complete.
TEST_F(ClusterTest, RestartingNatsWhileIdleLosesNoQueuedJob) {
  ASSERT_NO_FATAL_FAILURE(StartWebs());
  const auto files = SamplePhotos();
  const std::vector<std::filesystem::path> first_a(files.begin(), files.begin() + 30);
  const std::vector<std::filesystem::path> first_b(files.begin() + 30, files.begin() + 60);
  std::vector<std::string> queued = UploadConcurrently(WebA(), first_a, 5, 2);
  std::ranges::move(UploadConcurrently(WebB(), first_b, 5, 2), std::back_inserter(queued));
  ASSERT_EQ(queued.size(), 60u);
  ASSERT_EQ(OpsStatus(WebA())["queue"]["ready"].asInt(), 60);

  auto restart_nats = [&] {
    nats_->Stop(SIGTERM);
    const auto launched = nats_->Launch();
    ASSERT_TRUE(launched) << launched.error().message;
    // Ready again once the replica has reconnected.
    for (auto& web : webs_) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (web->Get("/readyz").status != 200 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      ASSERT_EQ(web->Get("/readyz").status, 200) << web->log().substr(0, 6000);
    }
  };
  ASSERT_NO_FATAL_FAILURE(restart_nats());
  EXPECT_EQ(OpsStatus(WebB())["queue"]["ready"].asInt(), 60);

  ArgusProcess& scaler = StartScaler(1, 2);
  ASSERT_TRUE(scaler.running());
  for (const Json::Value& record : WebB().AwaitAll(queued)) {
    EXPECT_EQ(record["status"].asString(), "done") << record.toStyledString();
  }
  ASSERT_EQ(StatusOnceDrained(WebA())["queue"]["in_flight"].asInt(), 0);

  ASSERT_NO_FATAL_FAILURE(restart_nats());
  const std::vector<std::filesystem::path> second_a(files.begin() + 60, files.begin() + 80);
  const std::vector<std::filesystem::path> second_b(files.begin() + 80, files.begin() + 100);
  std::vector<std::string> later = UploadConcurrently(WebA(), second_a, 5, 2);
  std::ranges::move(UploadConcurrently(WebB(), second_b, 5, 2), std::back_inserter(later));
  ASSERT_EQ(later.size(), 40u);
  for (const Json::Value& record : WebA().AwaitAll(later)) {
    EXPECT_EQ(record["status"].asString(), "done") << record.toStyledString();
  }

  const Json::Value status = StatusOnceDrained(WebA());
  EXPECT_EQ(status["images"]["done"].asInt(), 100);
  EXPECT_EQ(status["images"]["queued"].asInt(), 0);
  EXPECT_EQ(status["images"]["failed"].asInt(), 0);
  EXPECT_EQ(status["queue"]["ready"].asInt(), 0);
  EXPECT_EQ(status["queue"]["in_flight"].asInt(), 0);
  EXPECT_EQ(status["queue"]["dead"].asInt(), 0);
  queued.insert(queued.end(), later.begin(), later.end());
  ExpectOneOutputPerDoneImage(queued, 100);
  EXPECT_EQ(scaler.Terminate(), 0);
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

TEST_F(ClusterTest, PresignedDownloadsSendClientsToTheBucket) {
  ASSERT_NO_FATAL_FAILURE(StartWebs({"--presigned-downloads"}));
  StartWorker("worker");
  const auto photo = SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG";
  const HttpResult uploaded = WebA().Upload("/api/v1/images", {{"file", photo}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  ASSERT_EQ(WebA().AwaitAll({id}).front()["status"].asString(), "done");
  std::ifstream in(photo, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const HttpResult file = WebB().Get("/api/v1/images/" + id + "/file");
  ASSERT_EQ(file.status, 302) << file.body;
  EXPECT_THAT(file.location, ::testing::HasSubstr("X-Amz-Signature="));
  const blob::PlainResponse fetched = blob::PlainGet(file.location);
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.content_type, "image/jpeg");
  EXPECT_TRUE(fetched.body == bytes) << "the bucket returned other bytes";

  // The first request makes the thumbnail and answers with it; later ones are redirected.
  const HttpResult made = WebB().Get("/api/v1/images/" + id + "/thumbnail");
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.content_type, "image/jpeg");
  const HttpResult redirected = WebA().Get("/api/v1/images/" + id + "/thumbnail");
  ASSERT_EQ(redirected.status, 302) << redirected.body;
  const blob::PlainResponse thumbnail = blob::PlainGet(redirected.location);
  EXPECT_EQ(thumbnail.status, 200);
  EXPECT_TRUE(thumbnail.body == made.body);

  // Signing is no substitute for the owner check: others are refused before any redirect.
  ServeProcess& web = WebA();
  const std::string owner_token = web.bearer();
  web.UseNewAccount("stranger@example.com");
  EXPECT_EQ(web.Get("/api/v1/images/" + id + "/file").status, 404);
  EXPECT_EQ(web.Get("/api/v1/images/" + id + "/thumbnail").status, 404);
  web.UseToken(owner_token);
  EXPECT_EQ(WebA().Terminate(), 0);
  EXPECT_EQ(WebB().Terminate(), 0);
}

}  // namespace
}  // namespace argus::e2e
