// End-to-end tests of `argus serve`: the real binary on a free loopback port, real SQLite,
// real worker processes, real HTTP.
#include <arpa/inet.h>
#include <drogon/HttpClient.h>
#include <drogon/UploadFile.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <trantor/net/EventLoopThread.h>

#include <algorithm>
#include <filesystem>
#include <format>
#include <fstream>
#include <future>
#include <latch>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "common/sha256.h"
#include "common/small_file_system_test.h"
#include "db/drogon_client.h"
#include "events/nats_test_server.h"
#include "image/test_images.h"
#include "serve_process.h"

namespace argus::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string ReadAll(const std::filesystem::path& path) {
  std::stringstream text;
  text << std::ifstream(path, std::ios::binary).rdbuf();
  return text.str();
}

std::size_t FilesIn(const std::filesystem::path& dir) {
  if (!std::filesystem::exists(dir)) return 0;
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    count += entry.is_regular_file() && entry.path().extension() != ".tmp";
  }
  return count;
}

// The id of the last event in an answer of /api/v1/events ("" when it has none).
std::string LastEventId(const std::string& body) {
  const auto at = body.rfind("id: ");
  return at == std::string::npos ? "" : body.substr(at + 4, body.find('\n', at) - at - 4);
}

// Two accounts on one service, and a photo of the second one's, classified.
struct TwoAccountsOnePhoto {
  std::string bob;    // signed up first, without the photo
  std::string alice;  // signed up second: the token `serve` keeps using
  std::filesystem::path photo = SharedData() / "imagenet-sample" / "n01440764_tench.JPEG";
  std::string photo_id;
};
TwoAccountsOnePhoto SignUpTwoAndClassifyAPhotoOfTheSecond(ServeProcess& serve) {
  TwoAccountsOnePhoto accounts{.bob = serve.UseNewAccount("bob@example.com"),
                               .alice = serve.UseNewAccount("alice@example.com")};
  const std::vector<std::string> ids = UploadConcurrently(serve, {accounts.photo}, 1, 1);
  EXPECT_EQ(ids.size(), 1u);
  if (!ids.empty()) accounts.photo_id = ids.front();
  serve.AwaitAll(ids);
  return accounts;
}

// The events after `after` as a browser reads them, over as many answers of /api/v1/events
// as it takes until `until` comes, for at most 30 s (each answer waits up to 25 s for news).
std::string ReadEventsUntil(ServeProcess& serve, std::string after, std::string_view until) {
  std::string stream;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (stream.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    const HttpResult events = serve.Get("/api/v1/events", {{"Last-Event-ID", after}});
    stream += events.body;
    if (const std::string last = LastEventId(events.body); !last.empty()) after = last;
  }
  return stream;
}

// One answer of /api/v1/events after `last_event_id`, on a connection of its own: on the
// test client's, a request sent meanwhile would wait behind its long poll.
HttpResult EventsApart(ServeProcess& serve, const std::string& last_event_id) {
  trantor::EventLoopThread loop;
  loop.run();
  auto client = drogon::HttpClient::newHttpClient(
      "http://127.0.0.1:" + std::to_string(serve.port()), loop.getLoop());
  auto request = drogon::HttpRequest::newHttpRequest();
  request->setPath("/api/v1/events");
  request->addHeader("Authorization", "Bearer " + serve.bearer());
  request->addHeader("Last-Event-ID", last_event_id);
  auto [result, response] = client->sendRequest(request, 60);
  return ToResult(result, response);
}

// What a first run left: `count` sample photos uploaded by one account through the web tier
// alone, so that their jobs stay queued.
struct Uploaded {
  std::vector<std::string> ids;
  std::string owner_token;
};
Uploaded UploadWithoutWorkers(const std::filesystem::path& data_dir, std::size_t count) {
  ServeProcess web(data_dir, "web");
  web.Start();
  Uploaded uploaded{.owner_token = web.UseNewAccount("owner@example.com")};
  const auto all = SamplePhotos();
  uploaded.ids = UploadConcurrently(
      web, {all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count)}, 1, 1);
  EXPECT_EQ(uploaded.ids.size(), count);
  EXPECT_EQ(web.Terminate(), 0);
  return uploaded;
}

// Changes a stopped service's SQLite catalog or queue by hand, to make a state between runs.
void RunSql(const std::filesystem::path& database, std::initializer_list<std::string> statements) {
  auto db = db::OpenSqliteClient(database.string());
  ASSERT_TRUE(db) << db.error().message;
  for (const std::string& statement : statements) (*db)->execSqlSync(statement);
  db::ReleaseDbClient(std::move(*db));
}

class ServeTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

// The classic course workload: 100 requests at once, one image each, answered with the
// label as plain text.
TEST_F(ServeTest, CourseWorkloadOfOneHundredConcurrentRequestsAllGetLabels) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const auto files = CourseImages();
  const std::vector<HttpResult> results = ClassifyConcurrently({&serve}, files);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, 200) << files[i] << ": " << results[i].body;
    EXPECT_THAT(results[i].content_type, HasSubstr("text/plain"));
    EXPECT_FALSE(results[i].body.empty());
    EXPECT_EQ(results[i].body.find('\n'), std::string::npos);
  }
  EXPECT_EQ(serve.Terminate(), 0);
}

// The 500 labelled photos through the asynchronous API reach `argus classify`'s accuracy.
TEST_F(ServeTest, LabelledPhotosThroughTheApiReachTheEngineAccuracy) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const auto files = SamplePhotos();
  ASSERT_EQ(files.size(), 500u);
  const auto ids = UploadConcurrently(serve, files, 10, 4);
  ASSERT_EQ(ids.size(), files.size());
  const auto records = serve.AwaitAll(ids);
  ExpectEngineAccuracy(records);
  // The output bucket holds one result object per image. A worker writes them after it has
  // recorded the results, which is what the records show, and SIGTERM lets it finish.
  EXPECT_EQ(serve.Terminate(), 0);
  EXPECT_EQ(FilesIn(serve.data_dir() / "blobs" / "outputs"), files.size());
}

// A store failure part-way through a request keeps the files stored before it, and the error
// lists them: the client resends only the others.
TEST_F(ServeTest, AnUploadFailingPartWayListsTheFilesStoredBeforeTheFailure) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const auto samples = SharedData() / "imagenet-sample";
  const std::vector<std::filesystem::path> photos = {samples / "n02099712_Labrador_retriever.JPEG",
                                                     samples / "n01440764_tench.JPEG",
                                                     samples / "n01514859_hen.JPEG"};
  const auto id_of = [](const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(file), {}};
    return Sha256Hex(bytes);
  };
  // A folder where the second photo's input file belongs makes its write fail.
  const auto obstruction = serve.data_dir() / "blobs" / "inputs" / id_of(photos[1]);
  std::filesystem::create_directories(obstruction / "in-the-way");

  const HttpResult failed = serve.Upload(
      "/api/v1/images", {{"file", photos[0]}, {"file", photos[1]}, {"file", photos[2]}});
  EXPECT_EQ(failed.status, 500) << failed.body;
  EXPECT_EQ(failed.json["error"]["code"].asString(), "internal") << failed.body;
  EXPECT_THAT(failed.body, Not(HasSubstr(serve.data_dir().string())));
  ASSERT_EQ(failed.json["images"].size(), 1u) << failed.body;
  const std::string stored_id = failed.json["images"][0]["id"].asString();
  EXPECT_EQ(stored_id, id_of(photos[0]));
  EXPECT_FALSE(std::filesystem::exists(serve.data_dir() / "blobs" / "inputs" / id_of(photos[2])));
  const HttpResult listed = serve.Get("/api/v1/images");
  ASSERT_EQ(listed.json["images"].size(), 1u) << listed.body;
  EXPECT_EQ(listed.json["images"][0]["id"].asString(), stored_id);
  EXPECT_EQ(serve.AwaitAll({stored_id})[0]["status"].asString(), "done");

  std::filesystem::remove_all(obstruction);
  const HttpResult resent =
      serve.Upload("/api/v1/images", {{"file", photos[1]}, {"file", photos[2]}});
  ASSERT_EQ(resent.status, 202) << resent.body;
  EXPECT_EQ(serve.Get("/api/v1/images").json["images"].size(), 3u);
  EXPECT_EQ(serve.Terminate(), 0);
}

// A second `argus serve` started by mistake on a running one's data directory is refused,
// and leaves the first one's events alone: it used to take the event socket over, and remove
// it when it stopped, so the first one's waiting clients heard of results only from its
// once-a-second re-check.
TEST_F(ServeTest, ASecondServeOnTheSameDataDirectoryIsRefused) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const auto port = nats::FreePort();
  ASSERT_TRUE(port);
  const auto log = dir_.path() / "second.log";
  const int status =
      std::system(std::format("timeout 20 {} serve --host 127.0.0.1 --port {} --data-dir {} 2>{}",
                              ARGUS_BINARY, *port, (dir_.path() / "data").string(), log.string())
                      .c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(ReadAll(log), HasSubstr("same data directory"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "data" / "events.sock"));
  // The first one still hears its workers: an answer from the worker's event, not the re-check.
  for (int i = 0; i < 5; ++i) {
    const HttpResult answer = serve.Upload(
        "/", {{"myfile", SharedData() / "cse546-imagenet-100" / std::format("test_{}.JPEG", i)}});
    EXPECT_EQ(answer.status, 200) << answer.body;
  }
  EXPECT_EQ(serve.Metric("argus_images_total{status=\"done\"}"), 5);
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, ADuplicateUploadIsAnsweredFromTheStoredResult) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const auto photo = SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG";
  const HttpResult first = serve.Upload("/api/v1/images", {{"file", photo}});
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string id = first.json["images"][0]["id"].asString();
  const auto done = serve.AwaitAll({id});
  ASSERT_EQ(done[0]["status"].asString(), "done");
  EXPECT_EQ(done[0]["spirit_dog"]["wnid"].asString(), "n02099712");
  EXPECT_EQ(done[0]["labels"][0]["parents"][0].asString(), "dog");

  const HttpResult again = serve.Upload("/api/v1/images", {{"file", photo}});
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(again.json["images"][0]["id"].asString(), id);
  EXPECT_EQ(again.json["images"][0]["status"].asString(), "done");
  EXPECT_EQ(again.json["images"][0]["labels"][0]["wnid"].asString(), "n02099712");
  const HttpResult sync = serve.Upload("/", {{"myfile", photo}});
  EXPECT_EQ(sync.status, 200);
  EXPECT_EQ(sync.body, "Labrador Retriever");
  const HttpResult ops = serve.Get("/api/v1/ops/status");
  EXPECT_EQ(ops.json["images"]["done"].asInt(), 1);
  EXPECT_EQ(serve.Terminate(), 0);
}

// With --durability=power the web tier flushes an upload's file and folder and the
// catalog's and the queue's logs to disk before it answers; by default it leaves them to
// the kernel, whose page cache outlives any crashed process.
TEST_F(ServeTest, PowerDurabilityFlushesAnUploadBeforeItIsAcceptedAndTheDefaultDoesNot) {
  const auto photo = SharedData() / "imagenet-sample" / "n01440764_tench.JPEG";
  struct Accepted {
    std::filesystem::path data_dir;
    std::string id;
    std::set<std::filesystem::path> synced;
  };
  auto accept_one = [&](const std::string& durability) {
    ServeProcess web(dir_.path() / durability, "web");
    web.Start({"--durability=" + durability});
    web.UseNewAccount("owner@example.com");
    Accepted accepted{.data_dir = std::filesystem::canonical(web.data_dir())};
    SyscallTrace trace(web.pid(), dir_.path() / (durability + ".strace"), "fsync,fdatasync");
    const HttpResult answer = web.Upload("/api/v1/images", {{"file", photo}});
    EXPECT_EQ(answer.status, 202) << answer.body;
    accepted.id = answer.json["images"][0]["id"].asString();
    accepted.synced = FlushedPaths(trace.Stop());
    EXPECT_EQ(web.Get("/api/v1/ops/status").json["durability"].asString(), durability);
    EXPECT_EQ(web.Terminate(), 0);
    return accepted;
  };

  // (Creating a blob folder syncs its parent once, whatever the durability.)
  auto flushed_for_the_upload = [](const Accepted& accepted) {
    const auto inputs = accepted.data_dir / "blobs" / "inputs";
    return std::vector<std::filesystem::path>{inputs / accepted.id, inputs,
                                              accepted.data_dir / "catalog.db-wal",
                                              accepted.data_dir / "queue.db-wal"};
  };
  const Accepted power = accept_one("power");
  EXPECT_THAT(power.synced, ::testing::IsSupersetOf(flushed_for_the_upload(power)));
  const Accepted process = accept_one("process");
  for (const auto& path : flushed_for_the_upload(process)) {
    EXPECT_FALSE(process.synced.contains(path)) << path;
  }
}

// The web tier announces each new upload to the worker of its machine (decode ahead) from one
// look at the folder where workers listen. It used to look once to count the workers and
// again to send; where no worker has made the folder (a web tier whose workers run elsewhere)
// no listing is remembered, and every upload paid for both looks.
TEST_F(ServeTest, EachNewUploadIsAnnouncedFromOneLookAtTheWorkersFolder) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  web.UseNewAccount("owner@example.com");
  SyscallTrace trace(web.pid(), dir_.path() / "announce.strace", "openat,inotify_add_watch");
  const auto photos = SamplePhotos();
  for (std::size_t i = 0; i < 2; ++i) {
    const HttpResult answer = web.Upload("/api/v1/images", {{"file", photos.at(i)}});
    EXPECT_EQ(answer.status, 202) << answer.body;
  }
  const std::vector<std::string> calls = trace.Stop();
  auto looks = [&](std::string_view call) {
    return std::ranges::count_if(calls, [&](const std::string& line) {
      return line.contains(call) && line.contains("/decode-ahead\"");
    });
  };
  // Each look is a watch and a listing, which find no folder.
  EXPECT_EQ(looks("inotify_add_watch("), 2) << testing::PrintToString(calls);
  EXPECT_EQ(looks("openat("), 2) << testing::PrintToString(calls);
  EXPECT_EQ(web.Terminate(), 0);
}

TEST_F(ServeTest, BadUploadsGetTheDocumentedErrorsAndLeaveNothingStored) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--max-bytes=150000", "--max-request-bytes=400000"});
  serve.UseNewAccount("owner@example.com");
  const auto scratch = dir_.path() / "bad";
  std::filesystem::create_directories(scratch);
  std::ofstream(scratch / "empty.jpg").flush();
  std::ofstream(scratch / "notes.jpg") << "this is not a photo";
  const std::string photo = ReadAll(SharedData() / "imagenet-sample" / "n01440764_tench.JPEG");
  std::ofstream(scratch / "truncated.jpg", std::ios::binary) << photo.substr(0, photo.size() / 2);
  // HEIF and AVIF files whose last box is cut short: their header reads, and the pixels the
  // boxes before it hold decode.
  image::InitializeVips();
  const image::internal::VipsImagePtr decoded(
      vips_image_new_from_buffer(photo.data(), photo.size(), "", nullptr));
  ASSERT_TRUE(decoded);
  for (const char* suffix : {".avif", ".heic"}) {
    const std::vector<std::byte> encoded = image::testing::Encode(decoded.get(), suffix);
    ASSERT_FALSE(encoded.empty()) << suffix;
    std::ofstream(scratch / (std::string("truncated") + suffix), std::ios::binary)
        << std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size())
        << std::string("\0\0\x10\0free", 8) << std::string(100, '\0');
  }
  std::filesystem::path big;
  for (const auto& file : SamplePhotos()) {
    if (std::filesystem::file_size(file) > 160000 && std::filesystem::file_size(file) < 390000) {
      big = file;
      break;
    }
  }
  ASSERT_FALSE(big.empty());
  const std::pair<std::filesystem::path, int> cases[] = {
      {scratch / "empty.jpg", 400},      {scratch / "notes.jpg", 415},
      {scratch / "truncated.jpg", 400},  {scratch / "truncated.avif", 400},
      {scratch / "truncated.heic", 400}, {big, 413}};
  for (const auto& [file, status] : cases) {
    for (const char* path : {"/api/v1/images", "/"}) {
      const HttpResult result = serve.Upload(path, {{"myfile", file}});
      EXPECT_EQ(result.status, status) << path << " " << file << ": " << result.body;
      EXPECT_TRUE(result.json["error"]["code"].isString()) << result.body;
      EXPECT_FALSE(result.json["error"]["message"].asString().empty());
    }
  }
  // One bad file refuses the whole request; every bad one is named (only the first was).
  const HttpResult mixed = serve.Upload(
      "/api/v1/images", {{"a", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"},
                         {"b", scratch / "notes.jpg"},
                         {"c", scratch / "truncated.jpg"}});
  EXPECT_EQ(mixed.status, 415) << mixed.body;
  EXPECT_THAT(mixed.json["error"]["message"].asString(),
              HasSubstr("(and 1 more file refused: see \"refused\")"));
  const Json::Value& refused = mixed.json["refused"];
  ASSERT_EQ(refused.size(), 2u) << mixed.body;
  EXPECT_EQ(refused[0]["file"].asString(), "notes.jpg");
  EXPECT_EQ(refused[0]["code"].asString(), "unsupported_media");
  EXPECT_EQ(refused[1]["file"].asString(), "truncated.jpg");
  EXPECT_EQ(refused[1]["code"].asString(), "corrupt");
  EXPECT_THAT(refused[1]["message"].asString(), HasSubstr("truncated"));
  // Missing field, no files, malformed multipart, wrong content type, too large a request.
  EXPECT_EQ(
      serve.Upload("/", {{"other", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}})
          .status,
      400);
  const HttpResult malformed =
      serve.PostRaw("/api/v1/images", "multipart/form-data; boundary=xyz", "--xyz\r\ngarbage");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(serve.PostRaw("/api/v1/images", "application/json", "{}").status, 400);
  const HttpResult no_part =
      serve.PostRaw("/", "multipart/form-data; boundary=xyz",
                    "--abc\r\nContent-Disposition: form-data; "
                    "name=\"myfile\"; filename=\"a.jpg\"\r\n\r\nx\r\n--abc--\r\n");
  EXPECT_EQ(no_part.status, 400);
  EXPECT_THAT(no_part.json["error"]["message"].asString(), HasSubstr("no part found"));
  const HttpResult two =
      serve.Upload("/", {{"myfile", scratch / "notes.jpg"}, {"myfile", scratch / "truncated.jpg"}});
  EXPECT_EQ(two.status, 400) << two.body;
  EXPECT_THAT(two.json["error"]["message"].asString(), HasSubstr("send one file"));
  const HttpResult huge = serve.PostRaw("/api/v1/images", "multipart/form-data; boundary=xyz",
                                        std::string(500000, 'x'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(huge.json["error"]["code"].asString(), "too_large") << huge.body;
  // Refused before routing (this one) or by the handler (the big photo above), each counted
  // under its route.
  const std::string metrics = serve.Get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr(R"(argus_http_requests_total{route="/api/v1/images",)"
                                 R"(method="POST",status="413"} 2)"));
  EXPECT_THAT(metrics, Not(HasSubstr("unmatched")));
  // Unknown routes and ids.
  const HttpResult unknown = serve.Get("/api/v1/images/nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error"]["message"].asString(), "no image nope")
      << "messages name no internal component";
  EXPECT_EQ(serve.Get("/no/such/route").json["error"]["code"].asString(), "not_found");
  EXPECT_EQ(serve.Get("/api/v1/images?limit=0").status, 400);
  EXPECT_EQ(serve.Get("/api/v1/images?cursor=garbage").status, 400);

  EXPECT_EQ(serve.Get("/api/v1/images").json["images"].size(), 0u);
  EXPECT_EQ(FilesIn(serve.data_dir() / "blobs"), 0u);
  EXPECT_EQ(serve.Get("/api/v1/ops/status").json["queue"]["ready"].asInt(), 0);
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, GalleryListingSearchFileAndDelete) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const auto photos = SharedData() / "imagenet-sample";
  const std::vector<std::filesystem::path> files{photos / "n01440764_tench.JPEG",
                                                 photos / "n02099712_Labrador_retriever.JPEG",
                                                 photos / "n02085782_Japanese_spaniel.JPEG"};
  std::vector<std::string> ids;
  for (const auto& file : files) {
    const HttpResult result = serve.Upload("/api/v1/images", {{"file", file}});
    ASSERT_EQ(result.status, 202);
    ids.push_back(result.json["images"][0]["id"].asString());
  }
  serve.AwaitAll(ids);

  const HttpResult all = serve.Get("/api/v1/images?limit=2");
  ASSERT_EQ(all.json["images"].size(), 2u);
  EXPECT_EQ(all.json["images"][0]["id"].asString(), ids[2]) << "newest first";
  const std::string cursor = all.json["next_cursor"].asString();
  ASSERT_FALSE(cursor.empty());
  const HttpResult rest = serve.Get("/api/v1/images?limit=2&cursor=" + cursor);
  ASSERT_EQ(rest.json["images"].size(), 1u);
  EXPECT_EQ(rest.json["images"][0]["id"].asString(), ids[0]);
  EXPECT_EQ(rest.json["next_cursor"].asString(), "");

  const HttpResult dogs = serve.Get("/api/v1/images?label=dog");
  std::set<std::string> dog_ids;
  for (const auto& image : dogs.json["images"]) dog_ids.insert(image["id"].asString());
  EXPECT_EQ(dog_ids, (std::set<std::string>{ids[1], ids[2]}));
  EXPECT_EQ(dogs.json["label_match"].asString(), "term");
  EXPECT_FALSE(all.json.isMember("label_match"));
  EXPECT_EQ(serve.Get("/api/v1/images?label=fish").json["images"].size(), 1u);
  // A word of a label that no photo has as a label or category finds the labels holding it.
  const HttpResult labradors = serve.Get("/api/v1/images?label=labrador");
  ASSERT_EQ(labradors.json["images"].size(), 1u);
  EXPECT_EQ(labradors.json["images"][0]["id"].asString(), ids[1]);
  EXPECT_EQ(labradors.json["label_match"].asString(), "words");
  // Labels are found by the names of their WordNet ancestors too.
  auto ids_found_by = [&serve](const std::string& term) {
    const HttpResult result = serve.Get("/api/v1/images?label=" + term);
    std::set<std::string> found;
    for (const auto& image : result.json["images"]) found.insert(image["id"].asString());
    return found;
  };
  EXPECT_EQ(ids_found_by("retriever"), (std::set<std::string>{ids[1]}));

  // Numbers are written to six significant digits, in answers and in the log.
  const std::regex binary_noise(R"(\d\.\d{9,})");
  EXPECT_FALSE(std::regex_search(serve.Get("/api/v1/images/" + ids[1]).body, binary_noise));
  EXPECT_FALSE(std::regex_search(serve.log(), binary_noise));

  const HttpResult file = serve.Get("/api/v1/images/" + ids[0] + "/file");
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.content_type, "image/jpeg");
  EXPECT_EQ(file.body, ReadAll(files[0]));

  // Made on the first request, then kept.
  const auto thumbnail_blob = serve.data_dir() / "blobs" / "thumbnails" / (ids[0] + ".jpg");
  EXPECT_FALSE(std::filesystem::exists(thumbnail_blob));
  const HttpResult thumbnail = serve.Get("/api/v1/images/" + ids[0] + "/thumbnail");
  EXPECT_EQ(thumbnail.status, 200);
  EXPECT_EQ(thumbnail.content_type, "image/jpeg");
  ASSERT_GT(thumbnail.body.size(), 2u);
  EXPECT_EQ(thumbnail.body.substr(0, 2), "\xFF\xD8");
  EXPECT_LT(thumbnail.body.size(), file.body.size());
  EXPECT_EQ(ReadAll(thumbnail_blob), thumbnail.body);
  EXPECT_EQ(serve.Get("/api/v1/images/" + ids[0] + "/thumbnail").body, thumbnail.body);

  EXPECT_EQ(serve.Delete("/api/v1/images/" + ids[0]).status, 204);
  EXPECT_FALSE(std::filesystem::exists(thumbnail_blob));
  EXPECT_EQ(serve.Get("/api/v1/images/" + ids[0] + "/thumbnail").status, 404);
  EXPECT_EQ(serve.Get("/api/v1/images/" + ids[0]).status, 404);
  EXPECT_EQ(serve.Get("/api/v1/images/" + ids[0] + "/file").status, 404);
  EXPECT_EQ(serve.Delete("/api/v1/images/" + ids[0]).status, 404);
  EXPECT_FALSE(std::filesystem::exists(serve.data_dir() / "blobs" / "inputs" / ids[0]));
  EXPECT_EQ(serve.Get("/api/v1/images").json["images"].size(), 2u);
  EXPECT_EQ(serve.Terminate(), 0);
}

// Every account's events share one window of 10,000: a client whose id is older than one
// that left it is told so, and lists its photos again, instead of waiting on "no news".
TEST_F(ServeTest, AStreamResumingAfterEventsLeftTheWindowIsToldItMissedThem) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--max-queue-depth=100000"});
  const std::string alice = serve.UseNewAccount("alice@example.com");
  const std::string since = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(since.empty());
  const HttpResult kept = serve.Get("/api/v1/events?after=" + since);
  EXPECT_THAT(kept.body, Not(HasSubstr("missed"))) << "nothing has left the window yet";
  // An id that is not one was taken for none: the client silently started afresh.
  const HttpResult garbage = serve.Get("/api/v1/events?after=x" + since);
  EXPECT_EQ(garbage.status, 400) << garbage.body;
  EXPECT_THAT(garbage.json["error"]["message"].asString(), HasSubstr("after must be an event id"));
  EXPECT_EQ(serve.Get("/api/v1/events", {{"Last-Event-ID", "-1"}}).status, 400);

  serve.UseNewAccount("bob@example.com");
  std::vector<std::pair<std::string, std::filesystem::path>> files;
  for (int i = 0; i < 100; ++i) {
    files.emplace_back("file",
                       SharedData() / "cse546-imagenet-100" / std::format("test_{}.JPEG", i));
  }
  for (int round = 0; round < 101; ++round) {  // each upload is an event, the first ones more
    ASSERT_EQ(serve.Upload("/api/v1/images", files).status, 202) << round;
  }
  serve.UseToken(alice);
  const HttpResult missed = serve.Get("/api/v1/events?after=" + since);
  EXPECT_EQ(missed.status, 200);
  EXPECT_THAT(missed.body, HasSubstr("event: ready\ndata: {\"missed\":true}"));
  EXPECT_GT(LastEventId(missed.body), since) << "and where to go on from";
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, ServerSentEventsReportStatusChanges) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const HttpResult ready = serve.Get("/api/v1/events");
  ASSERT_EQ(ready.status, 200);
  EXPECT_THAT(ready.content_type, HasSubstr("text/event-stream"));
  EXPECT_THAT(ready.body, HasSubstr("event: ready"));
  const std::string last_id = LastEventId(ready.body);
  ASSERT_FALSE(last_id.empty());

  std::string stream;
  std::jthread listener([&] { stream = ReadEventsUntil(serve, last_id, "\"status\":\"done\""); });
  // On a connection of its own: on the listener's, it waited behind the long poll, which
  // nothing then ended for 25 s (this test took 27.7 s instead of 2.6 when the listener
  // got there first).
  const std::vector<std::string> uploaded =
      UploadConcurrently(serve, {SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}, 1, 1);
  ASSERT_EQ(uploaded.size(), 1u);
  listener.join();
  EXPECT_THAT(stream, HasSubstr("event: image"));
  EXPECT_THAT(stream, HasSubstr("\"status\":\"done\""));
  EXPECT_THAT(stream, HasSubstr(uploaded.front()));
  // The event carries the image as GET /api/v1/images/{id} has it, numbers written alike.
  const std::size_t done = stream.find("\"status\":\"done\"");
  const std::size_t data = stream.rfind("data: ", done) + 6;
  EXPECT_EQ(stream.substr(data, stream.find('\n', data) - data),
            serve.Get("/api/v1/images/" + uploaded.front()).body);
  EXPECT_EQ(serve.Terminate(), 0);
}

// Two accounts with the same photo: one deleting its copy after the other's upload does not
// hide that upload's event from the other's stream.
TEST_F(ServeTest, AnotherAccountsDeletionDoesNotHideAnEventOfTheSameContent) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const auto [bob, alice, photo, id] = SignUpTwoAndClassifyAPhotoOfTheSecond(serve);
  ASSERT_FALSE(id.empty());

  serve.UseToken(bob);
  const std::string from = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(from.empty());
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", photo}}).status, 202);
  serve.UseToken(alice);
  ASSERT_EQ(serve.Delete("/api/v1/images/" + id).status, 204);
  serve.UseToken(bob);
  const HttpResult stream = serve.Get("/api/v1/events", {{"Last-Event-ID", from}});
  EXPECT_THAT(stream.body, HasSubstr(id));
  EXPECT_THAT(stream.body, HasSubstr("\"status\":\"done\""));
  EXPECT_THAT(stream.body, Not(HasSubstr("deleted")));
  EXPECT_EQ(serve.Terminate(), 0);
}

// A stream that catches up learns of the account's own deletion even when another account
// uploaded the same photo afterwards: the workers' events of that upload name no account and
// are not this one's.
TEST_F(ServeTest, AnotherAccountsUploadAfterMyDeletionDoesNotHideIt) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const auto [bob, alice, photo, id] = SignUpTwoAndClassifyAPhotoOfTheSecond(serve);
  ASSERT_FALSE(id.empty());
  const std::string from = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(from.empty());
  ASSERT_EQ(serve.Delete("/api/v1/images/" + id).status, 204);

  serve.UseToken(bob);
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", photo}}).status, 202);
  ASSERT_EQ(serve.AwaitAll({id}).front()["status"].asString(), "done") << "classified anew";
  serve.UseToken(alice);
  const HttpResult stream = serve.Get("/api/v1/events", {{"Last-Event-ID", from}});
  EXPECT_THAT(stream.body, HasSubstr(R"({"id":")" + id + R"(","status":"deleted"})"));
  EXPECT_THAT(stream.body, Not(HasSubstr("\"status\":\"done\"")));
  EXPECT_EQ(serve.Terminate(), 0);
}

// A stream far behind catches up over several responses. The workers' events of another
// account's earlier upload of a photo are not sent when this account uploads the same photo
// later: they would tell when the other account uploaded it, and send the photo twice.
TEST_F(ServeTest, CatchingUpSendsNoWorkerEventOfAnotherAccountsEarlierRound) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string bob = serve.UseNewAccount("bob@example.com");
  const std::string alice = serve.UseNewAccount("alice@example.com");
  serve.UseToken(bob);
  const std::string from = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(from.empty());

  serve.UseToken(alice);
  const std::filesystem::path shared = SharedData() / "imagenet-sample" / "n01440764_tench.JPEG";
  std::vector<std::filesystem::path> photos{shared};
  for (const std::filesystem::path& course : CourseImages()) photos.push_back(course);
  const std::vector<std::string> alices = UploadConcurrently(serve, photos, 1, 2);
  ASSERT_EQ(alices.size(), photos.size());
  serve.AwaitAll(alices);  // over 256 events: more than one response's worth

  serve.UseToken(bob);
  const HttpResult same = serve.Upload("/api/v1/images", {{"file", shared}});
  ASSERT_EQ(same.status, 202);
  const std::string shared_id = same.json["images"][0]["id"].asString();
  const HttpResult last = serve.Upload(
      "/api/v1/images",
      {{"file", SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG"}});
  ASSERT_EQ(last.status, 202);
  const std::string last_id = last.json["images"][0]["id"].asString();
  const std::string caught_up = ReadEventsUntil(serve, from, last_id);
  ASSERT_THAT(caught_up, HasSubstr(last_id));
  const std::string shared_event = R"("id":")" + shared_id + R"(")";
  std::size_t sent = 0;
  for (std::size_t at = caught_up.find(shared_event); at != std::string::npos;
       at = caught_up.find(shared_event, at + 1)) {
    ++sent;
  }
  EXPECT_EQ(sent, 1u) << caught_up;
  for (const std::string& id : alices) {
    if (id != shared_id) {
      EXPECT_THAT(caught_up, Not(HasSubstr(id)));
    }
  }
  EXPECT_EQ(serve.Terminate(), 0);
}

// The same photo uploaded by another account is its own business: the first owner's event
// stream does not hear of it.
TEST_F(ServeTest, AnotherAccountsUploadOfTheSameContentIsNotAnnouncedToTheFirstOwner) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const auto [bob, alice, shared, id] = SignUpTwoAndClassifyAPhotoOfTheSecond(serve);
  ASSERT_FALSE(id.empty());
  const std::string from = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(from.empty());

  serve.UseToken(bob);
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", shared}}).status, 202);
  serve.UseToken(alice);
  const HttpResult own = serve.Upload(
      "/api/v1/images",
      {{"file", SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG"}});
  ASSERT_EQ(own.status, 202);
  const HttpResult stream = serve.Get("/api/v1/events", {{"Last-Event-ID", from}});
  EXPECT_THAT(stream.body, HasSubstr(own.json["images"][0]["id"].asString()));
  EXPECT_THAT(stream.body, Not(HasSubstr(id)));
  EXPECT_EQ(serve.Terminate(), 0);
}

// After an upgrade that changes the rule of the search terms, the stored results are
// indexed again while the server already answers, and are then found by the words the rule
// adds ("retriever" above "Labrador retriever").
TEST_F(ServeTest, StoredResultsAreIndexedAgainWhileTheServerAnswers) {
  constexpr int kOutdated = 30'000;
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const std::string owner = serve.Get("/api/v1/auth/me").json["user"]["id"].asString();
  ASSERT_FALSE(owner.empty());
  ASSERT_EQ(serve.Terminate(), 0);
  {
    // Results as a version before the rule stored them: labels and categories, rule 0.
    auto db = db::OpenSqliteClient((serve.data_dir() / "catalog.db").string());
    ASSERT_TRUE(db) << db.error().message;
    const std::string result_json =
        R"({"labels":[{"wnid":"n02099712","name":"Labrador retriever","confidence":0.878,)"
        R"("parents":["dog"]}],"model":"mobilenetv2-12-int8"})";
    (*db)->execSqlSync(std::format(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})"
        " INSERT INTO images (id, status, result_json, model, created_at_ms, finished_at_ms,"
        " job_enqueued, terms_version)"
        " SELECT printf('%064d', i), 'done', '{}', 'mobilenetv2-12-int8', 1, 2, 1, 0 FROM n",
        kOutdated, result_json));
    (*db)->execSqlSync(
        "INSERT INTO uploads (owner, image_id, filename, uploaded_at_ms)"
        " SELECT $1, id, 'dog.jpg', 1 FROM images WHERE terms_version = 0",
        owner);
    (*db)->execSqlSync(
        "INSERT INTO image_terms (image_id, term) SELECT id, 'labrador retriever' FROM images"
        " UNION ALL SELECT id, 'dog' FROM images");
    db::ReleaseDbClient(std::move(*db));
  }
  auto retrievers = [&serve] {
    return serve.Get("/api/v1/images?label=retriever&limit=200").json["images"].size();
  };

  serve.Start();
  const std::string done_line =
      std::format("{} stored results indexed again with today's search terms", kOutdated);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (serve.log().find(done_line) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The server's own log orders the two: its first 200 to /readyz since the restart, then
  // the end of the indexing.
  const std::string log = serve.log();
  const std::size_t restarted = log.rfind("listening on");
  std::size_t ready = log.find("\"path\":\"/readyz\"", restarted);
  while (ready != std::string::npos &&
         log.substr(ready, log.find('\n', ready) - ready).find("\"status\":200") ==
             std::string::npos) {
    ready = log.find("\"path\":\"/readyz\"", ready + 1);
  }
  ASSERT_NE(log.find(done_line), std::string::npos) << log;
  ASSERT_NE(ready, std::string::npos) << log;
  EXPECT_LT(ready, log.find(done_line)) << "ready before the indexing ended";
  EXPECT_LT(log.find("20000 stored results indexed again so far"), log.find(done_line));
  EXPECT_EQ(retrievers(), 200u);
  EXPECT_EQ(serve.Terminate(), 0);
}

// Another tab of the same account hears of uploads, even of content classified before (no
// worker event follows), and of deletions; other accounts do not.
// A stream's first id is the time it started, not the number of the last event of anyone:
// that told when another account last uploaded, to the microsecond.
TEST_F(ServeTest, AStreamsFirstIdTellsNothingOfOtherAccountsEvents) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string watcher = serve.UseNewAccount("watcher@example.com");
  serve.UseNewAccount("busy@example.com");
  const HttpResult upload = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(upload.status, 202);
  serve.AwaitAll({upload.json["images"][0]["id"].asString()});
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto micros_now = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = micros_now();
  serve.UseToken(watcher);
  const std::string first_id = LastEventId(serve.Get("/api/v1/events").body);
  const std::int64_t after = micros_now();
  ASSERT_FALSE(first_id.empty());
  // Numbers are microseconds times 1000 plus a replica tag.
  const std::int64_t id_micros = std::stoll(first_id) / 1000;
  EXPECT_GE(id_micros, before) << "the time of the busy account's last event";
  EXPECT_LE(id_micros, after);
  EXPECT_EQ(serve.Terminate(), 0);
}

// A stream that was waiting when its token was revoked answered the uploads that came
// afterwards (file name, labels) up to 25 s later; it now ends with 401.
TEST_F(ServeTest, AStreamWaitingWhenItsTokenIsRevokedTellsNothingMore) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const HttpResult second = serve.CreateToken("second");
  ASSERT_EQ(second.status, 201) << second.body;
  const std::string owner = serve.bearer();
  serve.UseToken(second.json["token"].asString());
  const std::string start = LastEventId(serve.Get("/api/v1/events").body);
  ASSERT_FALSE(start.empty());
  auto waiting = std::async(std::launch::async, [&] {
    return RawExchange(serve.port(),
                       "GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                           second.json["token"].asString() + "\r\nLast-Event-ID: " + start +
                           "\r\nConnection: close\r\n\r\n",
                       std::chrono::seconds(40));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the long poll waits
  serve.UseToken(owner);
  ASSERT_EQ(serve.Delete("/api/v1/tokens/" + second.json["id"].asString()).status, 204);
  const HttpResult upload = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(upload.status, 202);
  const std::string answer = waiting.get();
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 401 ")) << answer;
  EXPECT_THAT(answer, Not(HasSubstr("tench")));
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, TheEventStreamTellsAnAccountOfItsUploadsAndDeletions) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string other = serve.UseNewAccount("other@example.com");
  const std::string owner = serve.UseNewAccount("owner@example.com");
  const auto photos = SharedData() / "imagenet-sample";
  const HttpResult upload =
      serve.Upload("/api/v1/images", {{"file", photos / "n01440764_tench.JPEG"}});
  ASSERT_EQ(upload.status, 202);
  const std::string id = upload.json["images"][0]["id"].asString();
  serve.AwaitAll({id});

  auto stream_start = [&serve](const std::string& token) {
    serve.UseToken(token);
    return LastEventId(serve.Get("/api/v1/events").body);
  };
  auto stream_until = [&serve](const std::string& token, const std::string& after,
                               std::string_view until) {
    serve.UseToken(token);
    return ReadEventsUntil(serve, after, until);
  };

  const std::string other_start = stream_start(other);
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", photos / "n01440764_tench.JPEG"}})
                .json["images"][0]["status"]
                .asString(),
            "done");
  EXPECT_THAT(stream_until(other, other_start, "\"status\":\"done\""), HasSubstr(id));

  const std::string owner_start = stream_start(owner);
  ASSERT_EQ(serve.Delete("/api/v1/images/" + id).status, 204);
  const std::string deleted = "{\"id\":\"" + id + "\",\"status\":\"deleted\"}";
  EXPECT_THAT(stream_until(owner, owner_start, deleted), HasSubstr(deleted));

  // The other account, which keeps its entry, is not told of the owner's deletion.
  serve.UseToken(other);
  const HttpResult another =
      serve.Upload("/api/v1/images", {{"file", photos / "n01530575_brambling.JPEG"}});
  ASSERT_EQ(another.status, 202);
  const std::string theirs =
      stream_until(other, owner_start, another.json["images"][0]["id"].asString());
  EXPECT_THAT(theirs, ::testing::Not(HasSubstr(deleted)));
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, MetricsHealthAndOpenApiAreServed) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  ASSERT_EQ(
      serve.Upload("/", {{"myfile", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}})
          .status,
      200);
  EXPECT_EQ(serve.Get("/healthz").json["status"].asString(), "ok");
  EXPECT_EQ(serve.Get("/readyz").status, 200);
  // The worker's batch event may land just after the result it follows.
  HttpResult metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = serve.Get("/metrics");
    if (metrics.body.find("argus_batch_size_bucket") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(metrics.status, 200);
  for (const char* name :
       {"argus_http_requests_total{", "argus_http_request_duration_seconds_bucket",
        "argus_queue_jobs{state=\"ready\"}", "argus_workers{state=\"running\"}",
        "argus_batch_size_bucket", "argus_inference_seconds_count",
        "argus_images_decoded_ahead_total", "argus_images_total{status=\"done\"}",
        "argus_scaler_decisions_total", "argus_http_handler_backlog{state=\"limit\"} 1024\n"}) {
    EXPECT_THAT(metrics.body, HasSubstr(name));
  }
  const HttpResult openapi = serve.Get("/api/openapi.json");
  EXPECT_EQ(openapi.json["openapi"].asString(), "3.0.3");
  EXPECT_TRUE(openapi.json["paths"].isMember("/api/v1/images/{id}"));
  EXPECT_TRUE(openapi.json["paths"].isMember("/api/v1/images/{id}/thumbnail"));
  EXPECT_NE(serve.log().find("\"component\":\"http\""), std::string::npos);
  // A healthy start of the service and its worker logs nothing that reads as fatal.
  EXPECT_EQ(serve.log().find("FATAL"), std::string::npos) << serve.log();
  EXPECT_EQ(serve.Terminate(), 0);
}

// The web tier and the worker it starts meet in the data directory's decode-ahead folder:
// the lone worker decodes uploads while their jobs are still being queued.
TEST_F(ServeTest, ALoneWorkerDecodesUploadsAheadOfTheirJobs) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=1", "--max-workers=1"});
  for (int i = 0; i < 1200 && serve.log().find("ready with model") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_THAT(serve.log(), HasSubstr("ready with model"));
  serve.UseNewAccount("owner@example.com");
  auto decoded_ahead = [&serve] { return serve.Metric("argus_images_decoded_ahead_total"); };
  // Each announcement gives the worker a head start of the catalog's and the queue's work;
  // a worker thread that a busy machine schedules later than that misses one, not all.
  const auto photos = SamplePhotos();
  double count = 0;
  for (std::size_t i = 0; i < 20 && count == 0; ++i) {
    ASSERT_EQ(serve.Upload("/", {{"myfile", photos[i]}}).status, 200) << photos[i];
    for (int poll = 0; poll < 20 && count == 0; ++poll) {  // the batch event follows the answer
      count = decoded_ahead();
      if (count == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_GT(count, 0) << "no upload was decoded ahead";
  EXPECT_EQ(serve.Terminate(), 0);
}

// The blob store on a file system of 1 MB of its own, and the folder where Drogon spools
// request bodies over 1 MB on one of 256 KB: the uploads fill the first within a dozen
// photos.
TEST_F(ServeTest, AFullDiskAnswers507LosesNothingAcceptedAndRecovers) {
  const auto data = dir_.path() / "data";
  const auto blobs = data / "blobs";
  SmallFileSystem blob_disk(blobs, "1m");
  SmallFileSystem spool_disk(data / "tmp", "256k");
  for (const SmallFileSystem* disk : {&blob_disk, &spool_disk}) {
    if (!disk->mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk->error();
  }
  ServeProcess serve(data);
  // A limit the 1 MB disk has room for: with the default 50 MB it is never ready.
  serve.Start({"--max-bytes=800000"});
  serve.UseNewAccount("owner@example.com");

  // Two photos of 0.6 and 0.7 MB in one request: cut short in the spool, not malformed.
  const HttpResult spooled = serve.Upload(
      "/", {{"myfile", SharedData() / "imagenet-sample" / "n03843555_oil_filter.JPEG"},
            {"other", SharedData() / ".." / "assets" / "breeds" / "n02100583_vizsla.JPEG"}});
  EXPECT_EQ(spooled.status, 507) << spooled.body;
  EXPECT_EQ(spooled.json["error"]["code"].asString(), "insufficient_storage");

  std::vector<std::string> accepted;
  HttpResult refused;
  std::filesystem::path refused_photo;
  for (const auto& photo : SamplePhotos()) {
    HttpResult result = serve.Upload("/api/v1/images", {{"file", photo}});
    if (result.status != 202) {
      refused = std::move(result);
      refused_photo = photo;
      break;
    }
    accepted.push_back(result.json["images"][0]["id"].asString());
    ASSERT_EQ(serve.AwaitAll({accepted.back()}).front()["status"].asString(), "done");
  }
  ASSERT_FALSE(refused_photo.empty()) << "1 MB held all 500 photos";
  ASSERT_GE(accepted.size(), 3u);
  EXPECT_EQ(refused.status, 507) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"].asString(), "insufficient_storage");
  EXPECT_EQ(refused.body.find(data.string()), std::string::npos) << "the client sees no paths";
  EXPECT_THAT(serve.log(), HasSubstr("No space left on device")) << "the operator sees why";
  EXPECT_EQ(FilesIn(blobs / "inputs"), accepted.size()) << "nothing kept of the refused upload";
  EXPECT_EQ(serve.Get("/healthz").status, 200);
  for (const std::string& id : accepted) {
    EXPECT_EQ(serve.Get("/api/v1/images/" + id).json["status"].asString(), "done");
  }

  // Deleting two images frees their space; the refused photo then goes through.
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(serve.Delete("/api/v1/images/" + accepted[i]).status, 204);
  }
  const HttpResult again = serve.Upload("/api/v1/images", {{"file", refused_photo}});
  ASSERT_EQ(again.status, 202) << again.body;
  const std::string id = again.json["images"][0]["id"].asString();
  EXPECT_EQ(serve.AwaitAll({id}).front()["status"].asString(), "done");
  EXPECT_EQ(serve.Terminate(), 0);
}

// A catalog file removed under the running service took uploads into a file gone at the next
// start (425 answered 202 in 6 s, then lost): uploads are refused and readiness fails.
TEST_F(ServeTest, ACatalogFileRemovedUnderTheServiceStopsUploadsAndReadiness) {
  const auto data = dir_.path() / "data";
  ServeProcess serve(data, "web");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const auto photos = SamplePhotos();
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", photos[0]}}).status, 202);
  for (const char* file : {"catalog.db", "catalog.db-wal", "catalog.db-shm"}) {
    std::filesystem::remove(data / file);
  }
  const HttpResult refused = serve.Upload("/api/v1/images", {{"file", photos[1]}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"].asString(), "store_file_gone");
  const HttpResult ready = serve.Get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(ready.json["error"]["code"].asString(), "store_file_gone");
  EXPECT_THAT(ready.json["error"]["message"].asString(),
              HasSubstr("the catalog's file was removed or replaced"))
      << "the store named, not its path";
  EXPECT_THAT(serve.log(),
              HasSubstr("catalog.db was removed or replaced under the running service"));
  serve.Kill9();
}

// Fills the file system mounted at `folder` to its last block.
void Fill(const std::filesystem::path& folder) {
  std::ofstream filler(folder / "filler", std::ios::binary);
  const std::string block(4096, 'x');
  while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
  }
}

// A queue that cannot take the job of an image the catalog has just recorded: the image stays
// (the recovery sweep queues its job within a minute), so the answer lists it as stored. It
// said nothing was stored, and the client found the photo classified in its gallery anyway.
TEST_F(ServeTest, AnUploadRecordedWhoseJobCannotBeQueuedIsListedAsStored) {
  const auto data = dir_.path() / "data";
  SmallFileSystem queue_disk(data / "queue", "256k");
  if (!queue_disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << queue_disk.error();
  ServeProcess serve(data, "web");
  serve.Start({"--queue=sqlite://" + (data / "queue" / "queue.db").string()});
  serve.UseNewAccount("owner@example.com");
  Fill(data / "queue");
  HttpResult refused;
  for (const auto& photo : SamplePhotos()) {  // the log may have room for a few more jobs
    HttpResult result = serve.Upload("/api/v1/images", {{"file", photo}});
    if (result.status != 202) {
      refused = std::move(result);
      break;
    }
  }
  ASSERT_EQ(refused.status, 507) << refused.body;
  ASSERT_EQ(refused.json["images"].size(), 1u) << refused.body;
  const std::string id = refused.json["images"][0]["id"].asString();
  EXPECT_EQ(serve.Get("/api/v1/images/" + id).json["status"].asString(), "queued");
  EXPECT_EQ(serve.Terminate(), 0);
}

// A catalog that cannot record an upload whose bytes were just written: the bytes go again,
// where they stayed for good with no image to find them by.
TEST_F(ServeTest, AnUploadTheCatalogCannotRecordLeavesNoBytes) {
  const auto data = dir_.path() / "data";
  SmallFileSystem catalog_disk(data / "catalog", "512k");
  if (!catalog_disk.mounted()) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << catalog_disk.error();
  }
  ServeProcess serve(data, "web");
  serve.Start({"--catalog=sqlite://" + (data / "catalog" / "catalog.db").string()});
  serve.UseNewAccount("owner@example.com");
  ASSERT_EQ(serve.Get("/api/v1/images").status, 200);  // the token's use is recorded
  Fill(data / "catalog");
  std::size_t accepted = 0;
  HttpResult refused;
  for (const auto& photo : SamplePhotos()) {
    HttpResult result = serve.Upload("/api/v1/images", {{"file", photo}});
    if (result.status != 202) {
      refused = std::move(result);
      break;
    }
    ++accepted;
  }
  ASSERT_EQ(refused.status, 507) << refused.body;
  EXPECT_EQ(FilesIn(data / "blobs" / "inputs"), accepted) << "the refused upload's bytes stayed";
  EXPECT_EQ(serve.Terminate(), 0);
}

// The inputs' folder on a read-only file system for a while: reads work, writes do not, so
// a load balancer must send uploads elsewhere until the folder takes writes again.
TEST_F(ServeTest, ReadinessFailsWhileTheBlobStoreRefusesWritesOrHasNoRoom) {
  const auto data = dir_.path() / "data";
  ServeProcess serve(data);
  serve.Start();
  // Polls: a check's outcome is reused for 5 s.
  const auto readiness_once = [&serve](int status) {
    HttpResult ready;
    for (int poll = 0; poll < 100; ++poll) {
      ready = serve.Get("/readyz");
      if (ready.status == status) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ready;
  };
  SmallFileSystem read_only(data / "blobs" / "inputs", "64k", MS_RDONLY);
  if (!read_only.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << read_only.error();
  const HttpResult not_ready = readiness_once(503);
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  EXPECT_EQ(not_ready.json["error"]["code"].asString(), "blob_store_unavailable");
  EXPECT_EQ(not_ready.json["error"]["message"].asString(),
            "the blob store refuses writes: Read-only file system")
      << "anyone may ask: no paths";
  EXPECT_EQ(serve.Get("/healthz").status, 200);
  ASSERT_TRUE(read_only.Unmount());
  ASSERT_EQ(readiness_once(200).status, 200);

  // A disk that takes the probe's byte but not an upload at the size limit (50 MB).
  SmallFileSystem small(data / "blobs" / "inputs", "1m");
  ASSERT_TRUE(small.mounted()) << small.error();
  const HttpResult no_room = readiness_once(503);
  EXPECT_EQ(no_room.status, 503) << no_room.body;
  EXPECT_EQ(no_room.json["error"]["code"].asString(), "blob_store_unavailable");
  EXPECT_THAT(no_room.json["error"]["message"].asString(),
              ::testing::MatchesRegex("the blob store's disk has no room: [0-9.]+ MB free, less "
                                      "than the 50.0 MB one upload may take"));
  ASSERT_TRUE(small.Unmount());

  const HttpResult ready = readiness_once(200);
  EXPECT_EQ(ready.status, 200) << ready.body;
  serve.UseNewAccount("owner@example.com");
  const HttpResult upload =
      serve.Upload("/", {{"myfile", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  EXPECT_EQ(upload.status, 200) << upload.body;
  EXPECT_EQ(serve.Terminate(), 0);
}

// Photos sent to POST / without an account belong to no one: they go once their retention
// ends, while an account's upload of the same photo keeps it.
TEST_F(ServeTest, PhotosSentWithoutAnAccountAreRemovedAfterTheirRetention) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--anonymous-retention=2"});
  const auto samples = SharedData() / "imagenet-sample";
  const std::filesystem::path alone = samples / "n01440764_tench.JPEG";
  const std::filesystem::path shared = samples / "n01514859_hen.JPEG";
  const auto id_of = [](const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    return Sha256Hex(std::string{std::istreambuf_iterator<char>(file), {}});
  };
  const auto stored = [&serve](const std::string& folder, const std::string& name) {
    return std::filesystem::exists(serve.data_dir() / "blobs" / folder / name);
  };
  for (const auto& photo : {alone, shared}) {
    const HttpResult answer = serve.Upload("/", {{"myfile", photo}});
    ASSERT_EQ(answer.status, 200) << answer.body;
  }
  serve.UseNewAccount("owner@example.com");
  const HttpResult owned = serve.Upload("/api/v1/images", {{"file", shared}});
  ASSERT_EQ(owned.status, 202) << owned.body;
  ASSERT_TRUE(stored("inputs", id_of(alone)));
  ASSERT_TRUE(stored("outputs", id_of(alone) + ".json"));
  const std::string since = LastEventId(serve.Get("/api/v1/events").body);

  for (int i = 0; i < 100 && stored("inputs", id_of(alone)); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The anonymous copy's end is no news to the account that holds the same photo (its
  // gallery dropped the photo): the stream has only the upload that follows.
  ASSERT_EQ(serve.Upload("/api/v1/images", {{"file", samples / "n01484850_great_white_shark.JPEG"}})
                .status,
            202);
  EXPECT_THAT(serve.Get("/api/v1/events?after=" + since).body, Not(HasSubstr("deleted")));
  EXPECT_FALSE(stored("inputs", id_of(alone)));
  EXPECT_FALSE(stored("outputs", id_of(alone) + ".json"));
  EXPECT_THAT(serve.log(), HasSubstr("photos sent without an account removed, older than 2 s"));
  EXPECT_TRUE(stored("inputs", id_of(shared)));
  EXPECT_EQ(serve.Get("/api/v1/images/" + id_of(shared)).status, 200);
  // Sent again, the photo is classified afresh.
  serve.UseToken("");
  const HttpResult again = serve.Upload("/", {{"myfile", alone}});
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(stored("inputs", id_of(alone)));
  EXPECT_EQ(serve.Terminate(), 0);
}

// An account deleting the last record of an image while another account uploads the same
// content, at once, 30 times: every upload keeps its bytes and is classified.
TEST_F(ServeTest, AnUploadRacingTheDeletionOfTheSameContentKeepsItsBytes) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string bob = serve.UseNewAccount("bob@example.com");
  const std::string alice = serve.UseNewAccount("alice@example.com");
  const auto all = SamplePhotos();
  const std::vector<std::filesystem::path> photos(all.begin(), all.begin() + 30);
  const std::vector<std::string> alice_ids = UploadConcurrently(serve, photos, 1, 2);
  ASSERT_EQ(alice_ids.size(), photos.size());
  serve.AwaitAll(alice_ids);

  const DeletionRace race =
      RaceDeletionsWithUploads({serve.port(), alice}, {serve.port(), bob}, photos);
  serve.UseToken(bob);
  for (std::size_t i = 0; i < photos.size(); ++i) {
    EXPECT_EQ(race.deleted[i], 204) << photos[i];
    ASSERT_FALSE(race.uploaded[i].empty()) << photos[i];
  }
  const std::vector<Json::Value> records = serve.AwaitAll(race.uploaded);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["status"].asString(), "done") << photos[i] << ": " << records[i];
    EXPECT_EQ(serve.Get("/api/v1/images/" + race.uploaded[i] + "/file").status, 200) << photos[i];
  }
  EXPECT_EQ(serve.Terminate(), 0);
}

// The web tier alone never takes jobs, so the backlog bound is reached and reported.
TEST_F(ServeTest, AFullQueueAnswers503WithRetryAfter) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--max-queue-depth=3"});
  web.UseNewAccount("owner@example.com");
  const auto files = SamplePhotos();
  // One request whose new images alone are over the bound could never be taken: it is not
  // told to retry.
  const HttpResult four = web.Upload(
      "/api/v1/images", {{"a", files[6]}, {"b", files[7]}, {"c", files[8]}, {"d", files[9]}});
  EXPECT_EQ(four.status, 413) << four.body;
  EXPECT_EQ(four.json["error"]["code"].asString(), "too_large");
  EXPECT_THAT(four.json["error"]["message"].asString(), HasSubstr("the queue holds at most 3"));
  EXPECT_FALSE(four.headers.contains("retry-after"));
  // Copies of one photo add one job: four of them fit a bound of 3.
  const HttpResult copies = web.Upload(
      "/api/v1/images", {{"a", files[0]}, {"b", files[0]}, {"c", files[0]}, {"d", files[0]}});
  EXPECT_EQ(copies.status, 202) << copies.body;
  // Uploads in quick succession: the depth read from the queue is up to 100 ms old, and the
  // jobs queued since count too.
  int accepted = 0;
  HttpResult refused;
  for (std::size_t i = 0; i < 6 && refused.status == 0; ++i) {
    const HttpResult result = web.Upload("/api/v1/images", {{"file", files[i]}});
    if (result.status == 202) {
      ++accepted;
    } else {
      refused = result;
    }
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.headers, ::testing::Contains(::testing::Pair("retry-after", "1")));
  EXPECT_EQ(refused.json["error"]["code"].asString(), "queue_full");

  // Content stored before adds no job, so it is taken whatever the backlog.
  const HttpResult again = web.Upload("/api/v1/images", {{"file", files[0]}});
  EXPECT_EQ(again.status, 202) << again.body;
  const HttpResult mixed = web.Upload("/api/v1/images", {{"file", files[0]}, {"file", files[5]}});
  EXPECT_EQ(mixed.status, 503) << "a new image in the same request is refused";
  EXPECT_EQ(web.Get("/api/v1/images").json["images"].size(), 3U) << "nothing of it was kept";
  // Unless it failed: sent again, it would be queued for another round.
  RunSql(web.data_dir() / "catalog.db",
         {"UPDATE images SET status = 'failed', error = 'broken' WHERE id = '" +
          Sha256Hex(ReadAll(files[1])) + "'"});
  const HttpResult failed_again = web.Upload("/api/v1/images", {{"file", files[1]}});
  EXPECT_EQ(failed_again.status, 503) << failed_again.body;
  EXPECT_EQ(failed_again.json["error"]["code"].asString(), "queue_full");
  EXPECT_EQ(web.Get("/api/v1/ops/status").json["queue"]["ready"].asUInt64(), 3u);
  EXPECT_EQ(web.Terminate(), 0);
}

// Uploads under way at once all see the same depth of the queue: each also counts the room
// the others reserved (a bound of 5 took 44 jobs from 100 concurrent clients).
TEST_F(ServeTest, ConcurrentUploadsStayWithinTheBacklogBound) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--max-queue-depth=5"});
  web.UseNewAccount("owner@example.com");
  const auto all = SamplePhotos();
  const std::vector<std::filesystem::path> photos(all.begin(), all.begin() + 60);
  EXPECT_EQ(UploadConcurrently(web, photos, 1, 12).size(), 5u);
  EXPECT_EQ(web.Get("/api/v1/ops/status").json["queue"]["ready"].asUInt64(), 5u);
  EXPECT_EQ(web.Terminate(), 0);
}

// Media types are case-insensitive: a client that capitalises its Content-Type is served.
TEST_F(ServeTest, TheMultipartMediaTypeIsMatchedWhateverItsCase) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string photo = ReadAll(SharedData() / "imagenet-sample" / "n01440764_tench.JPEG");
  // The parameter's name too (the boundary itself is case-sensitive).
  for (const char* content_type :
       {"Multipart/Form-Data; boundary=xyz", "multipart/form-data; BOUNDARY=xyz"}) {
    const HttpResult result = serve.PostRaw(
        "/", content_type,
        "--xyz\r\nContent-Disposition: form-data; name=\"myfile\"; filename=\"tench.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n" +
            photo + "\r\n--xyz--\r\n");
    EXPECT_EQ(result.status, 200) << content_type << ": " << result.body;
    EXPECT_EQ(result.body, "tench");
  }

  // A file is shown by the last part of the name it was sent with. Browsers write a quote in
  // a name as %22, and line breaks as %0D and %0A (HTML's multipart/form-data encoding).
  serve.UseNewAccount("owner@example.com");
  for (const auto& [sent, shown] : std::vector<std::pair<std::string, std::string>>{
           {"C:\\fakepath\\tench.jpg", "tench.jpg"},
           {"../../etc/tench.jpg", "tench.jpg"},
           {"my%22best%22.jpg", "my\"best\".jpg"},
           {"two%0D%0Alines.jpg", "two\uFFFD\uFFFDlines.jpg"},
           {"100%25.jpg", "100%25.jpg"}}) {
    const HttpResult uploaded = serve.PostRaw(
        "/api/v1/images", "multipart/form-data; boundary=xyz",
        std::format("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n"
                    "Content-Type: image/jpeg\r\n\r\n{}\r\n--xyz--\r\n",
                    sent, photo));
    ASSERT_EQ(uploaded.status, 202) << uploaded.body;
    EXPECT_EQ(uploaded.json["images"][0]["filename"].asString(), shown) << sent;
  }
  // Control characters and bytes that are not UTF-8 are shown as U+FFFD, not refused after the
  // bytes were stored.
  const HttpResult odd =
      serve.PostRaw("/api/v1/images", "multipart/form-data; boundary=xyz",
                    "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                        std::string("a\0b\xFF\x1B.jpg", 9) +
                        "\"\r\nContent-Type: image/jpeg\r\n\r\n" + photo + "\r\n--xyz--\r\n");
  ASSERT_EQ(odd.status, 202) << odd.body;
  EXPECT_EQ(odd.json["images"][0]["filename"].asString(), "a\uFFFDb\uFFFD\uFFFD.jpg");
  EXPECT_EQ(serve.Terminate(), 0);
}

// Browsers asking for a page the web app does not know get the app, which says so itself;
// API clients, missing files and API paths get the JSON 404, and every answer is logged.
TEST_F(ServeTest, UnknownPagesGetTheWebAppAndUnknownResourcesAJson404) {
  const std::filesystem::path web_dir = dir_.path() / "web";
  std::filesystem::create_directories(web_dir);
  std::ofstream(web_dir / "index.html") << "<!doctype html><title>the app</title>";
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--web-dir=" + web_dir.string()});
  const std::pair<std::string, std::string> browser{"Accept", "text/html,*/*;q=0.8"};

  const HttpResult page = web.Get("/no/such/page", {browser});
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("the app"));
  EXPECT_EQ(web.Get("/gallery/", {browser}).status, 200);
  for (const std::string path : {"/assets/missing.js", "/api/v1/nope"}) {
    const HttpResult missing = web.Get(path, {browser});
    EXPECT_EQ(missing.status, 404) << path;
    EXPECT_EQ(missing.json["error"]["code"].asString(), "not_found") << path;
  }
  const HttpResult api_client = web.Get("/no/such/page");
  EXPECT_EQ(api_client.status, 404);
  EXPECT_EQ(api_client.json["error"]["code"].asString(), "not_found");
  EXPECT_EQ(LinesWith(web.log(), {"\"path\":\"/api/v1/nope\"", "\"status\":404"}), 1u);
  EXPECT_EQ(web.Terminate(), 0);
}

// Pages, API answers, errors and stored photos alike: a photo is never sniffed into a page,
// and no other site frames the app.
TEST_F(ServeTest, EveryAnswerCarriesTheSecurityHeaders) {
  const std::filesystem::path web_dir = dir_.path() / "web";
  std::filesystem::create_directories(web_dir);
  std::ofstream(web_dir / "index.html") << "<!doctype html><title>the app</title>";
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--web-dir=" + web_dir.string()});
  serve.UseNewAccount("ida@example.com");
  const HttpResult uploaded = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  for (const std::string& path :
       std::vector<std::string>{"/", "/gallery", "/healthz", "/api/v1/images", "/api/v1/nope",
                                "/api/v1/images/" + id + "/file"}) {
    const HttpResult answer = serve.Get(path, {{"Accept", "text/html,*/*;q=0.8"}});
    ASSERT_NE(answer.status, 0) << path;
    using ::testing::Contains;
    using ::testing::Pair;
    EXPECT_THAT(answer.headers, Contains(Pair("x-content-type-options", "nosniff"))) << path;
    EXPECT_THAT(answer.headers, Contains(Pair("x-frame-options", "DENY"))) << path;
    EXPECT_THAT(answer.headers, Contains(Pair("referrer-policy", "same-origin"))) << path;
    EXPECT_THAT(answer.headers,
                Contains(Pair("content-security-policy", HasSubstr("frame-ancestors 'none'"))))
        << path;
  }
  EXPECT_EQ(serve.Terminate(), 0);
}

// An account that uploads a photo another account uploaded before gets its result at once,
// but its times count from its own upload: the other account's upload time showed, to the
// millisecond, in queued_at_ms and the timings.
TEST_F(ServeTest, AnotherAccountsEarlierUploadOfAPhotoIsNotTold) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::filesystem::path photo = SharedData() / "imagenet-sample" / "n01440764_tench.JPEG";
  serve.UseNewAccount("first@example.com");
  const HttpResult first = serve.Upload("/api/v1/images", {{"file", photo}});
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string id = first.json["images"][0]["id"].asString();
  ASSERT_EQ(serve.AwaitAll({id})[0]["status"].asString(), "done");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  serve.UseNewAccount("second@example.com");
  const HttpResult second = serve.Upload("/api/v1/images", {{"file", photo}});
  ASSERT_EQ(second.status, 202) << second.body;
  const Json::Value seen = serve.Get("/api/v1/images/" + id).json;
  ASSERT_EQ(seen["status"].asString(), "done") << seen;
  EXPECT_EQ(seen["queued_at_ms"].asInt64(), seen["uploaded_at_ms"].asInt64()) << seen;
  EXPECT_EQ(seen["timings"]["queued_ms"].asInt64(), 0) << seen;
  EXPECT_EQ(seen["timings"]["total_ms"].asInt64(), 0) << seen;
  EXPECT_EQ(serve.Terminate(), 0);
}

// POST / is open to anyone: a browser's cookie of a session that has ended does not turn it
// into a 401. A bearer token that is not valid still does: it is a credential sent on purpose.
TEST_F(ServeTest, AnEndedSessionsCookieDoesNotStopAnAnonymousClassification) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::string photo = ReadAll(SharedData() / "imagenet-sample" / "n01440764_tench.JPEG");
  const std::string body =
      "--xyz\r\nContent-Disposition: form-data; name=\"myfile\"; filename=\"tench.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      photo + "\r\n--xyz--\r\n";
  const HttpResult stale = serve.PostRaw("/", "multipart/form-data; boundary=xyz", body,
                                         {{"Cookie", "argus_session=ended-long-ago"}});
  EXPECT_EQ(stale.status, 200) << stale.body;
  EXPECT_EQ(stale.body, "tench");
  const HttpResult bad_token = serve.PostRaw("/", "multipart/form-data; boundary=xyz", body,
                                             {{"Authorization", "Bearer not-a-token"}});
  EXPECT_EQ(bad_token.status, 401) << bad_token.body;
  EXPECT_EQ(serve.Terminate(), 0);
}

// A photo or thumbnail is kept by the browser but asked for each time it is shown, so that
// none shows from the cache once its owner logged out or deleted it (they were cached for a
// year); the ETag spares the bytes. API answers are not stored, and the app's page is
// revalidated also when asked for by its name.
TEST_F(ServeTest, PrivatePhotosAreRevalidatedAndApiAnswersNotStored) {
  const std::filesystem::path web_dir = dir_.path() / "web";
  std::filesystem::create_directories(web_dir);
  std::ofstream(web_dir / "index.html") << "<!doctype html><title>the app</title>";
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--web-dir=" + web_dir.string()});
  const std::string owner = serve.UseNewAccount("ida@example.com");
  const HttpResult uploaded = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  using ::testing::Contains;
  using ::testing::Pair;
  for (const std::string kind : {"file", "thumbnail"}) {
    const std::string path = std::format("/api/v1/images/{}/{}", id, kind);
    const HttpResult first = serve.Get(path);
    ASSERT_EQ(first.status, 200) << path;
    EXPECT_THAT(first.headers, Contains(Pair("cache-control", "private, no-cache"))) << path;
    const auto etag = std::ranges::find_if(
        first.headers, [](const auto& header) { return header.first == "etag"; });
    ASSERT_NE(etag, first.headers.end()) << path;
    const HttpResult again = serve.Get(path, {{"If-None-Match", etag->second}});
    EXPECT_EQ(again.status, 304) << path;
    EXPECT_TRUE(again.body.empty());
    serve.UseToken("");
    EXPECT_EQ(serve.Get(path, {{"If-None-Match", etag->second}}).status, 401)
        << path << ": no 304 for one who may not see it";
    serve.UseNewAccount("someone-else-" + kind + "@example.com");
    EXPECT_EQ(serve.Get(path, {{"If-None-Match", etag->second}}).status, 404) << path;
    serve.UseToken(owner);
  }
  for (const std::string path : {"/api/v1/images", "/api/v1/auth/me"}) {
    EXPECT_THAT(serve.Get(path).headers, Contains(Pair("cache-control", "no-store"))) << path;
  }
  const HttpResult token = serve.CreateToken("laptop");
  ASSERT_EQ(token.status, 201) << token.body;
  EXPECT_THAT(token.headers, Contains(Pair("cache-control", "no-store")));
  EXPECT_THAT(serve.Get("/index.html").headers, Contains(Pair("cache-control", "no-cache")));
  EXPECT_EQ(serve.Terminate(), 0);
}

// A body a little over the limit gets the JSON 413 (above); one far over it is refused as
// soon as its headers announce it, before anything is written to disk.
TEST_F(ServeTest, ABodyFarOverTheLimitIsRefusedBeforeItIsSent) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--max-request-bytes=100000000"});
  const std::string answer = RawExchange(web.port(),
                                         "POST / HTTP/1.1\r\nHost: localhost\r\n"
                                         "Content-Type: multipart/form-data; boundary=xyz\r\n"
                                         "Content-Length: 200000000\r\n\r\n",
                                         std::chrono::seconds(10));
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 413")) << answer;
  EXPECT_EQ(FilesIn(web.data_dir() / "tmp"), 0u);
  EXPECT_EQ(web.Terminate(), 0);
}

// Without workers nothing is classified: POST / runs out of time, and its 504 says how to
// get the result, which for an anonymous upload is sending it again.
TEST_F(ServeTest, APostThatOutlastsTheSyncTimeoutGets504SayingWhereTheResultWillBe) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--sync-timeout=1"});
  const auto photos = SamplePhotos();
  const HttpResult anonymous = ClassifyConcurrently({&web}, {photos[0]}).front();
  EXPECT_EQ(anonymous.status, 504);
  EXPECT_EQ(anonymous.json["error"]["code"].asString(), "timeout");
  EXPECT_THAT(anonymous.json["error"]["message"].asString(), HasSubstr("sending it again"));

  web.UseNewAccount("owner@example.com");
  const HttpResult owned = web.Upload("/", {{"myfile", photos[1]}});
  EXPECT_EQ(owned.status, 504);
  const std::string message = owned.json["error"]["message"].asString();
  const std::size_t path = message.find("/api/v1/images/");
  ASSERT_NE(path, std::string::npos) << message;
  const HttpResult polled = web.Get(message.substr(path));
  EXPECT_EQ(polled.status, 200) << polled.body;
  EXPECT_EQ(polled.json["status"].asString(), "queued");
  EXPECT_EQ(web.Terminate(), 0);
}

// A stopping server answers the clients that still wait once its drain time is up: a
// long poll with the image as it stands, POST / with 503.
TEST_F(ServeTest, SigtermAnswersTheClientsStillWaiting) {
  ServeProcess web(dir_.path() / "data", "web");
  web.Start({"--sync-timeout=45", "--drain-timeout=1"});
  web.UseNewAccount("owner@example.com");
  const auto photos = SamplePhotos();
  const HttpResult upload = web.Upload("/api/v1/images", {{"file", photos[0]}});
  ASSERT_EQ(upload.status, 202);
  const std::string id = upload.json["images"][0]["id"].asString();

  // Before the long poll, which takes the shared connection: behind it, this request waited
  // for the poll's 60 s, and the POST / below ran out its sync timeout meanwhile (a CI run).
  const std::string now = LastEventId(web.Get("/api/v1/events").body);
  auto long_poll = std::async(std::launch::async,
                              [&web, &id] { return web.Get("/api/v1/images/" + id + "?wait=60"); });
  auto classify = std::async(std::launch::async,
                             [&web, &photos] { return ClassifyConcurrently({&web}, {photos[1]}); });
  // On a connection of its own: behind the long poll on the shared one, the stream's
  // request would only be sent once that was answered, as the server stops.
  auto events = std::async(std::launch::async, [&web, &now] { return EventsApart(web, now); });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the three requests are waiting
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(web.Terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(15));

  const HttpResult polled = long_poll.get();
  EXPECT_EQ(polled.status, 200) << polled.body;
  EXPECT_EQ(polled.json["status"].asString(), "queued");
  const HttpResult classified = classify.get().front();
  EXPECT_EQ(classified.status, 503) << classified.body;
  EXPECT_EQ(classified.json["error"]["code"].asString(), "shutting_down");
  const HttpResult stream = events.get();
  EXPECT_EQ(stream.status, 200) << "an event stream ends with the id to resume from";
  EXPECT_THAT(stream.body, HasSubstr("id: "));
}

// Waiting clients are given the whole drain timeout: the once-a-second re-check, which
// takes every wait out until the catalog is read, used to look like no one waiting, and
// the drain ended early in a quarter to a half of the stops.
TEST_F(ServeTest, SigtermWaitsTheDrainTimeoutForClientsStillWaiting) {
  ServeProcess web(dir_.path() / "data", "web");  // no workers: no result comes
  web.Start({"--sync-timeout=45", "--drain-timeout=4"});
  const auto all = SamplePhotos();
  auto classify = std::async(std::launch::async, [&web, &all] {
    return ClassifyConcurrently({&web}, {all.begin(), all.begin() + 4});
  });
  // Past a few re-checks, so that the stop comes at any point of one.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(web.Terminate(), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(3900));
  for (const HttpResult& answer : classify.get()) {
    EXPECT_EQ(answer.status, 503) << answer.body;
    EXPECT_EQ(answer.json["error"]["code"].asString(), "shutting_down");
  }
}

// A browser that reconnects with an id from before this process's first event (kept from
// the process before a restart, or 0) waits for the next event. The server used to recurse
// until its stack overflowed, and died.
TEST_F(ServeTest, AnEventStreamResumedFromBeforeTheFirstEventWaitsForIt) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  auto events = std::async(std::launch::async, [&serve] { return EventsApart(serve, "1"); });
  EXPECT_EQ(events.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout)
      << "nothing has happened yet";
  const HttpResult uploaded = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  const HttpResult stream = events.get();
  EXPECT_EQ(stream.status, 200);
  EXPECT_THAT(stream.body, HasSubstr(id));
  // Once there are events, an id from before them is answered with them at once.
  EXPECT_THAT(EventsApart(serve, "0").body, HasSubstr(id));
  EXPECT_EQ(serve.Get("/healthz").status, 200);
  EXPECT_EQ(serve.Terminate(), 0);
}

// kill -9 of a worker in the middle of a batch: its jobs come back after the visibility
// timeout and every image ends with exactly one stored result.
TEST_F(ServeTest, KillingAWorkerMidBatchLosesNothing) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=1", "--max-workers=1", "--visibility-timeout=2"});
  serve.UseNewAccount("owner@example.com");
  const auto files = SamplePhotos();
  const std::vector<std::filesystem::path> some(files.begin(), files.begin() + 200);
  std::atomic<std::size_t> answered = 0;
  std::vector<std::string> ids;
  std::jthread uploader([&] { ids = UploadConcurrently(serve, some, 5, 2, &answered); });
  int killed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (killed == 0 && std::chrono::steady_clock::now() < deadline) {
    const HttpResult ops = serve.Get("/api/v1/ops/status");
    if (ops.json["queue"]["in_flight"].asInt() > 0 && !ops.json["scaler"]["worker_pids"].empty()) {
      killed = ops.json["scaler"]["worker_pids"][0].asInt();
      kill(killed, SIGKILL);
    }
  }
  ASSERT_GT(killed, 0) << "never saw a batch in flight";
  uploader.join();
  ASSERT_EQ(ids.size(), some.size());
  const auto records = serve.AwaitAll(ids);
  for (const Json::Value& record : records) EXPECT_EQ(record["status"].asString(), "done");
  const HttpResult ops = serve.Get("/api/v1/ops/status");
  EXPECT_EQ(ops.json["images"]["done"].asInt(), 200);
  EXPECT_EQ(ops.json["images"]["failed"].asInt(), 0);
  EXPECT_EQ(ops.json["queue"]["dead"].asInt(), 0);
  EXPECT_GE(ops.json["scaler"]["crashes"].asInt(), 1);
  EXPECT_NE(serve.log().find("worker_crashed"), std::string::npos);
  const Json::Value& decisions = ops.json["scaler"]["decisions"];
  EXPECT_TRUE(std::ranges::any_of(decisions, [](const Json::Value& decision) {
    return decision["action"].asString() == "restart";
  })) << decisions;
  EXPECT_THAT(serve.Get("/metrics").body,
              HasSubstr("argus_scaler_decisions_total{action=\"restart\"} "));
  EXPECT_EQ(serve.Terminate(), 0);  // a worker writes the output objects after the results
  EXPECT_EQ(FilesIn(serve.data_dir() / "blobs" / "outputs"), 200u);
}

// A worker that hangs (here stopped with SIGSTOP) gives no heartbeat: after --stall-timeout
// it is killed and replaced, and the work waiting for it is done. Before, nothing noticed:
// the scaler counted it as running, and uploads waited for good.
TEST_F(ServeTest, AWorkerThatHangsIsKilledAndReplaced) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=1", "--max-workers=1", "--stall-timeout=2"});
  serve.UseNewAccount("owner@example.com");
  Json::Value pids;
  for (int tries = 0; tries < 500 && pids.empty(); ++tries) {
    pids = serve.Get("/api/v1/ops/status").json["scaler"]["worker_pids"];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(pids.size(), 1u);
  const pid_t hung = pids[0].asInt();
  ASSERT_EQ(kill(hung, SIGSTOP), 0);
  const HttpResult uploaded = serve.Upload(
      "/api/v1/images", {{"file", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  EXPECT_EQ(serve.AwaitAll({id}, 30)[0]["status"].asString(), "done");
  const Json::Value scaler = serve.Get("/api/v1/ops/status").json["scaler"];
  EXPECT_EQ(scaler["stalls"].asInt(), 1) << scaler;
  EXPECT_THAT(serve.Get("/metrics").body, HasSubstr("argus_worker_stalls_total 1"));
  EXPECT_NE(serve.log().find("\"event\":\"worker_stalled\""), std::string::npos);
  EXPECT_TRUE(std::ranges::none_of(scaler["worker_pids"],
                                   [hung](const Json::Value& pid) { return pid.asInt() == hung; }));
  EXPECT_NE(kill(hung, 0), 0) << "the hung worker is gone";
  EXPECT_EQ(serve.Terminate(), 0);
}

// A photo whose every attempt ends with its worker killed (as a decoder crash would end it)
// fails by itself. The photos batched with it lose attempts to its crashes, then are tried
// one at a time with no other image in hand, and classified; before, they went to the dead
// letters with it.
TEST_F(ServeTest, APhotoThatKillsItsWorkerEveryTimeFailsAloneAndSparesItsBatch) {
  // A large PNG, which has no shrink-on-load: its decoding takes long enough to be caught.
  const image::testing::VipsImagePtr gradient = image::testing::MakeImage(
      8000, 8000, 1, VIPS_FORMAT_UCHAR, [](int x, int y, int) { return (x + 3 * y) & 0xff; });
  ASSERT_TRUE(gradient);
  const std::vector<std::byte> encoded = image::testing::Encode(gradient.get(), ".png");
  ASSERT_FALSE(encoded.empty());
  const std::filesystem::path poison = dir_.path() / "poison.png";
  std::ofstream(poison, std::ios::binary)
      << std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size());
  const auto samples = SamplePhotos();
  std::vector<std::filesystem::path> files(samples.begin(), samples.begin() + 6);
  files.insert(files.begin() + 3, poison);

  // Sent in one request while no worker runs: the one started for them takes them all.
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=0", "--max-workers=1", "--visibility-timeout=1", "--max-attempts=2"});
  serve.UseNewAccount("owner@example.com");
  const std::vector<std::string> ids = UploadConcurrently(serve, files, files.size(), 1);
  ASSERT_EQ(ids.size(), files.size());
  const std::string& poison_id = ids[3];
  // Each new start of the poison's processing (its queued time changes) is ended by kill -9.
  std::set<std::int64_t> attempts_seen;
  int kills = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (std::chrono::steady_clock::now() < deadline) {
    const Json::Value image = serve.Get("/api/v1/images/" + poison_id).json;
    if (image["status"].asString() == "failed" || image["status"].asString() == "done") break;
    const Json::Value& queued_ms = image["timings"]["queued_ms"];
    if (image["status"].asString() == "processing" && queued_ms.isIntegral() &&
        attempts_seen.insert(queued_ms.asInt64()).second) {
      const Json::Value pids = serve.Get("/api/v1/ops/status").json["scaler"]["worker_pids"];
      for (const Json::Value& pid : pids) kills += kill(pid.asInt(), SIGKILL) == 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const std::vector<Json::Value> records = serve.AwaitAll(ids, 60);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == poison_id) continue;
    EXPECT_EQ(records[i]["status"].asString(), "done") << files[i] << ": " << records[i];
  }
  const Json::Value& failed = records[3];
  EXPECT_EQ(failed["status"].asString(), "failed") << failed;
  EXPECT_THAT(failed["error"].asString(),
              HasSubstr("gave up after 3 attempts: its worker stopped before finishing it, also "
                        "with no other image"));
  EXPECT_EQ(kills, 3) << "two attempts in a batch and one alone";
  const HttpResult ops = serve.Get("/api/v1/ops/status");
  EXPECT_EQ(ops.json["queue"]["dead"].asInt(), 1);
  EXPECT_EQ(ops.json["images"]["done"].asInt(), 6);
  EXPECT_NE(serve.log().find("is over its attempts: trying it alone"), std::string::npos);
  EXPECT_EQ(serve.Terminate(), 0);
}

// kill -9 of the whole service during a burst, then a restart: every upload answered 202
// is classified.
// What a web process that died between storing an upload and enqueueing its job leaves
// behind, made by hand: a catalog row a few minutes old with no job, and the stored bytes.
TEST_F(ServeTest, AnUploadLeftWithoutItsJobIsEnqueuedWhileRunning) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const std::string owner = serve.Get("/api/v1/auth/me").json["user"]["id"].asString();
  ASSERT_FALSE(owner.empty());
  const auto photo = SharedData() / "imagenet-sample" / "n02099712_Labrador_retriever.JPEG";
  const std::string id = std::string(64, 'a');  // any id: the worker classifies the stored bytes

  const std::string catalog_url = "sqlite://" + (serve.data_dir() / "catalog.db").string();
  {
    auto catalog = catalog::OpenCatalog(catalog_url);
    ASSERT_TRUE(catalog) << catalog.error().message;
    auto added = (*catalog)->AddUpload({.id = id,
                                        .owner = owner,
                                        .filename = "orphan.jpg",
                                        .content_type = "image/jpeg",
                                        .size_bytes = 1,
                                        .width = 500,
                                        .height = 375});
    ASSERT_TRUE(added) << added.error().message;
    ASSERT_TRUE(added->needs_job);
  }
  {
    auto db = db::OpenSqliteClient((serve.data_dir() / "catalog.db").string());
    ASSERT_TRUE(db) << db.error().message;
    (*db)->execSqlSync("UPDATE images SET created_at_ms = created_at_ms - 180000 WHERE id = $1",
                       id);
    db::ReleaseDbClient(std::move(*db));
  }
  std::filesystem::create_directories(serve.data_dir() / "blobs" / "inputs");
  std::filesystem::copy_file(photo, serve.data_dir() / "blobs" / "inputs" / id);

  const HttpResult waited = serve.Get("/api/v1/images/" + id + "?wait=60");
  ASSERT_EQ(waited.status, 200) << waited.body;
  EXPECT_EQ(waited.json["status"].asString(), "done") << waited.body;
  EXPECT_THAT(serve.log(), ::testing::HasSubstr("re-enqueued that had no job for a minute"));
  EXPECT_EQ(serve.Terminate(), 0);
}

// The same new photo sent several times at once queues one job, not one per upload: the
// catalog's mark of the job is written a moment after it is queued.
TEST_F(ServeTest, TheSamePhotoUploadedConcurrentlyQueuesOneJob) {
  ServeProcess web(dir_.path() / "data", "web");  // no workers: the jobs stay queued
  web.Start();
  web.UseNewAccount("owner@example.com");
  const auto all = SamplePhotos();
  std::vector<std::filesystem::path> files;
  for (std::size_t photo = 0; photo < 5; ++photo) files.insert(files.end(), 4, all[photo]);
  const std::vector<std::string> ids = UploadConcurrently(web, files, 1, 8);
  ASSERT_EQ(ids.size(), files.size());
  ASSERT_EQ(web.Terminate(), 0);
  auto db = db::OpenSqliteClient((dir_.path() / "data" / "queue.db").string());
  ASSERT_TRUE(db) << db.error().message;
  const auto jobs = (*db)->execSqlSync("SELECT count(*) FROM messages");
  EXPECT_EQ(jobs[0][0].as<int>(), 5);
  db::ReleaseDbClient(std::move(*db));
}

// A queue that comes back empty (a NATS server restarted without its store) has lost the
// jobs of images still queued: they are enqueued again, here at the next start.
TEST_F(ServeTest, JobsTheQueueLostAreEnqueuedAgain) {
  const Uploaded uploaded = UploadWithoutWorkers(dir_.path() / "data", 3);
  RunSql(dir_.path() / "data" / "queue.db", {"DELETE FROM messages"});
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseToken(uploaded.owner_token);
  for (const Json::Value& image : serve.AwaitAll(uploaded.ids, 60)) {
    EXPECT_EQ(image["status"].asString(), "done") << image;
  }
  EXPECT_THAT(serve.log(), HasSubstr("3 images re-enqueued after a crash"));
  EXPECT_EQ(serve.Terminate(), 0);
}

// A failed image is tried again on its owner's request, without its bytes sent again. The
// failures are made in the catalog (and the jobs gone, as dead-lettering does) between two
// runs: what workers that kept crashing on them would have left.
// An image that fails within milliseconds (its pixel data is missing), sent again or tried
// again at once, gets a new round with a job of its own. It used to wait for the once-a-minute
// recovery: the mark of its first job, written a moment later, marked the new round too.
TEST_F(ServeTest, AnImageThatFailsAtOnceIsTriedAgainAtOnce) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--sync-timeout=15"});
  const std::filesystem::path bad = dir_.path() / "bad.png";
  {
    const std::vector<std::byte> bytes = image::testing::PngDeclaring(16, 16);
    std::ofstream(bad, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  for (int round = 0; round < 3; ++round) {
    const HttpResult answer = serve.Upload("/", {{"myfile", bad}});
    EXPECT_EQ(answer.status, 422) << round << ": " << answer.body;
  }

  const std::string owner = serve.UseNewAccount("owner@example.com");
  const HttpResult uploaded = serve.Upload("/api/v1/images", {{"file", bad}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  for (int round = 0; round < 3; ++round) {
    const Json::Value failed = serve.AwaitAll({id}, 15)[0];
    ASSERT_EQ(failed["status"].asString(), "failed") << round << ": " << failed;
    const HttpResult again = serve.SendJson(drogon::Post, "/api/v1/images/" + id + "/retry",
                                            Json::Value(), {{"Authorization", "Bearer " + owner}});
    ASSERT_EQ(again.status, 202) << again.body;
  }
  EXPECT_EQ(serve.AwaitAll({id}, 15)[0]["status"].asString(), "failed");
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, AFailedImageIsTriedAgainOnItsOwnersRequest) {
  const Uploaded uploaded = UploadWithoutWorkers(dir_.path() / "data", 2);
  const std::vector<std::string>& ids = uploaded.ids;
  const std::string& owner = uploaded.owner_token;
  ASSERT_EQ(ids.size(), 2u);
  RunSql(dir_.path() / "data" / "catalog.db",
         {"UPDATE images SET status = 'failed', attempts = 3, finished_at_ms = 1,"
          " error = 'gave up after 3 attempts: the worker crashed'"});
  RunSql(dir_.path() / "data" / "queue.db", {"DELETE FROM messages"});
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseToken(owner);
  const std::vector<std::pair<std::string, std::string>> as_owner{
      {"Authorization", "Bearer " + owner}};
  auto retry = [&](const std::string& id,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
    return serve.SendJson(drogon::Post, "/api/v1/images/" + id + "/retry", Json::Value(), headers);
  };
  const Json::Value failed = serve.Get("/api/v1/images/" + ids[0]).json;
  ASSERT_EQ(failed["status"].asString(), "failed");

  const std::string someone_else = serve.UseNewAccount("other@example.com");
  EXPECT_EQ(retry(ids[0], {{"Authorization", "Bearer " + someone_else}}).status, 404);
  EXPECT_EQ(retry(ids[0], {}).status, 401);
  serve.UseToken(owner);

  const HttpResult again = retry(ids[0], as_owner);
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(again.json["id"].asString(), ids[0]);
  EXPECT_EQ(again.json["status"].asString(), "queued");
  EXPECT_FALSE(again.json.isMember("error")) << again.json;
  EXPECT_GT(again.json["queued_at_ms"].asInt64(), failed["queued_at_ms"].asInt64())
      << "a new round";
  EXPECT_EQ(serve.AwaitAll({ids[0]})[0]["status"].asString(), "done");
  const HttpResult done = retry(ids[0], as_owner);
  EXPECT_EQ(done.status, 409);
  EXPECT_EQ(done.json["error"]["code"].asString(), "conflict");
  EXPECT_THAT(done.json["error"]["message"].asString(), HasSubstr("this one is done"));
  std::filesystem::rename(serve.data_dir() / "blobs" / "inputs" / ids[0], dir_.path() / "moved");
  EXPECT_EQ(retry(ids[0], as_owner).json["error"]["code"].asString(), "conflict")
      << "done, whatever became of its file";

  // Without its bytes another round would only fail again.
  std::filesystem::remove(serve.data_dir() / "blobs" / "inputs" / ids[1]);
  const HttpResult missing = retry(ids[1], as_owner);
  EXPECT_EQ(missing.status, 409);
  EXPECT_EQ(missing.json["error"]["code"].asString(), "file_missing");
  EXPECT_EQ(serve.Get("/api/v1/images/" + ids[1]).json["status"].asString(), "failed");
  EXPECT_EQ(serve.Terminate(), 0);
}

// The photos of an account whose deletion stopped part-way (the blob store away, say) are
// removed by the web tier's sweep. The state is made by hand between two runs: the account
// deleted in the catalog, its photos still there.
TEST_F(ServeTest, PhotosADeletionLeftBehindAreRemovedBySweep) {
  ASSERT_EQ(UploadWithoutWorkers(dir_.path() / "data", 3).ids.size(), 3u);
  RunSql(dir_.path() / "data" / "catalog.db",
         {"INSERT INTO deleted_users (id, deleted_at_ms) SELECT id, 1 FROM users",
          "DELETE FROM users"});
  ServeProcess web(dir_.path() / "data", "web");
  web.Start();
  const auto inputs = dir_.path() / "data" / "blobs" / "inputs";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (FilesIn(inputs) > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(FilesIn(inputs), 0u);
  EXPECT_THAT(web.log(), HasSubstr("3 photos of deleted accounts removed"));
  EXPECT_EQ(web.Terminate(), 0);
}

TEST_F(ServeTest, KillingTheServiceDuringABurstLosesNoAcceptedUpload) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--visibility-timeout=2"});
  serve.UseNewAccount("owner@example.com");
  const auto files = SamplePhotos();
  std::atomic<std::size_t> answered = 0;
  std::vector<std::string> ids;
  std::jthread uploader([&] { ids = UploadConcurrently(serve, files, 2, 4, &answered); });
  while (answered < 150) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  serve.Kill9();
  uploader.join();
  ASSERT_GE(ids.size(), 150u);
  ASSERT_LT(ids.size(), files.size()) << "the burst ended before the kill";

  serve.Start({"--visibility-timeout=2"});
  const auto records = serve.AwaitAll(ids);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i]["status"].asString(), "done")
        << ids[i] << " " << records[i].toStyledString();
  }
  EXPECT_EQ(serve.Terminate(), 0);
}

// A backlog on cores that are already busy gets no further worker: it would only take CPU
// from the first. The hold is logged once per stretch, shown and counted.
TEST_F(ServeTest, ABacklogOnBusyCoresKeepsOneWorkerAndReportsTheHold) {
  ServeProcess serve(dir_.path() / "data");
  // More idle cores than any machine here has: every worker beyond the first is held back.
  serve.Start({"--max-workers=3", "--jobs-per-worker=10", "--scale-out-idle-cores=1024"});
  serve.UseNewAccount("owner@example.com");
  std::vector<std::filesystem::path> files = SamplePhotos();
  files.resize(150);
  const std::vector<std::string> ids = UploadConcurrently(serve, files, 5, 4);
  ASSERT_EQ(ids.size(), files.size());
  for (const Json::Value& record : serve.AwaitAll(ids)) {
    EXPECT_EQ(record["status"].asString(), "done") << record.toStyledString();
  }
  const HttpResult status = serve.Get("/api/v1/ops/status");
  EXPECT_EQ(status.json["scaler"]["running"].asInt(), 1) << status.body;
  EXPECT_TRUE(status.json["scaler"]["idle_cores"].isDouble()) << status.body;
  const std::string log = serve.log();
  EXPECT_EQ(LinesWith(log, {"\"action\":\"scale_out\"", "\"from\":1"}), 0u) << log;
  const std::size_t holds = LinesWith(log, {"\"action\":\"scale_out_held\"", "cores were idle"});
  EXPECT_GE(holds, 1u) << log;
  // The metrics take the scaler's totals four times a second.
  const std::string counted =
      std::format("argus_scaler_decisions_total{{action=\"scale_out_held\"}} {}", holds);
  std::string metrics;
  for (int i = 0; i < 20 && metrics.find(counted) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    metrics = serve.Get("/metrics").body;
  }
  EXPECT_THAT(metrics, HasSubstr(counted));
  EXPECT_EQ(serve.Terminate(), 0);
}

// Photos sent one at a time, each classified long before the next comes, leave the queue
// empty whenever the scaler reads it; they still keep the worker, which goes once they stop.
TEST_F(ServeTest, LightTrafficKeepsAWorkerThatGoesWhenItStops) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=0", "--max-workers=1", "--scale-in-cooldown=3"});
  const auto photos = CourseImages();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  for (std::size_t i = 0; i < photos.size() && std::chrono::steady_clock::now() < until; ++i) {
    const HttpResult labelled = serve.Upload("/", {{"myfile", photos[i]}});
    ASSERT_EQ(labelled.status, 200) << labelled.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  EXPECT_EQ(LinesWith(serve.log(), {"scaling to zero"}), 0u) << serve.log();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (LinesWith(serve.log(), {"scaling to zero"}) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(LinesWith(serve.log(), {"scaling to zero"}), 1u);
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST_F(ServeTest, SigtermFinishesWaitingRequestsAndExitsZero) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=0"});
  HttpResult sync;
  std::jthread client([&] {
    sync =
        serve.Upload("/", {{"myfile", SharedData() / "imagenet-sample" / "n01440764_tench.JPEG"}});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(serve.Terminate(), 0);
  client.join();
  EXPECT_EQ(sync.status, 200) << sync.body;
  EXPECT_EQ(sync.body, "tench");
}

enum class Exchange : std::uint8_t { kAnswered, kRefused, kClosedUnanswered, kReset };

// A TCP connection to the server on `port`; -1 when refused.
int ConnectToLocalhost(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until the server closes; false when the connection was reset.
bool ReadUntilClosed(int fd, std::string& answer) {
  for (char buffer[4096];;) {
    const ssize_t got = recv(fd, buffer, sizeof buffer, 0);
    if (got == 0) return true;
    if (got < 0) return false;
    answer.append(buffer, static_cast<std::size_t>(got));
  }
}

// One GET of `path` on a connection of its own, told by what became of it.
Exchange GetOnItsOwnConnection(int port, std::string_view path) {
  const int fd = ConnectToLocalhost(port);
  if (fd < 0) return Exchange::kRefused;
  const std::string request =
      std::format("GET {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
  std::string answer;
  const bool reset =
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) < 0 || !ReadUntilClosed(fd, answer);
  close(fd);
  if (answer.starts_with("HTTP/1.1 ")) return Exchange::kAnswered;
  return reset ? Exchange::kReset : Exchange::kClosedUnanswered;
}

// A stopping server shuts its gate to new connections before Drogon quits, and answers the
// connections it took: a client either gets an answer or has its connection refused, which
// it knows to be safe to try again. Before, quitting dropped the requests still being read,
// and under load some clients had their connection closed with no answer (7 of 600).
TEST_F(ServeTest, SigtermAnswersEveryConnectionItTookAndRefusesTheRest) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=0"});
  std::atomic<bool> gone = false;
  std::mutex mutex;
  std::map<Exchange, int> seen;
  constexpr int kClients = 8;
  std::vector<std::jthread> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!gone && std::chrono::steady_clock::now() < deadline) {
        const Exchange exchange = GetOnItsOwnConnection(serve.port(), "/healthz");
        const std::lock_guard lock(mutex);
        ++seen[exchange];
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(serve.Terminate(), 0);
  gone = true;
  clients.clear();
  EXPECT_GT(seen[Exchange::kAnswered], 0);
  EXPECT_EQ(seen[Exchange::kClosedUnanswered], 0) << seen[Exchange::kAnswered] << " answered";
  EXPECT_EQ(seen[Exchange::kReset], 0) << seen[Exchange::kAnswered] << " answered";
}

// An upload still arriving when the server is told to stop is received and answered, with the
// 503 of a stopping server: it was cut a quarter of a second after SIGTERM, its client left
// not knowing whether it was taken.
TEST_F(ServeTest, SigtermReceivesAndAnswersAnUploadStillArriving) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--min-workers=0"});
  const std::string body =
      "--xyz\r\nContent-Disposition: form-data; name=\"myfile\"; filename=\"tench.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n" +
      ReadAll(SharedData() / "imagenet-sample" / "n01440764_tench.JPEG") + "\r\n--xyz--\r\n";
  const std::string head = std::format(
      "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n",
      body.size());
  const int fd = ConnectToLocalhost(serve.port());
  ASSERT_GE(fd, 0);
  ASSERT_EQ(send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  // The body in twenty parts over two seconds, the stop asked for after the first.
  constexpr std::size_t kParts = 20;
  const std::size_t part = body.size() / kParts + 1;
  int exit_code = -1;
  std::jthread stopper;
  for (std::size_t at = 0; at < body.size(); at += part) {
    const std::string_view piece = std::string_view(body).substr(at, part);
    ASSERT_EQ(send(fd, piece.data(), piece.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(piece.size()))
        << "the server stopped reading after " << at << " of " << body.size() << " bytes";
    if (at == 0) stopper = std::jthread([&] { exit_code = serve.Terminate(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string answer;
  EXPECT_TRUE(ReadUntilClosed(fd, answer));
  close(fd);
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_THAT(answer, HasSubstr("shutting_down"));
  stopper.join();
  EXPECT_EQ(exit_code, 0);
}

// Idle connections opened until the server holds `limit` (counting the test client's own),
// after which another is closed unanswered while those it holds are still served.
void ExpectConnectionsOverTheLimitClosed(ServeProcess& serve, int limit) {
  ASSERT_EQ(serve.Get("/healthz").status, 200);  // the test client's keep-alive connection
  std::vector<int> held;
  for (int i = 1; i < limit; ++i) held.push_back(ConnectToLocalhost(serve.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const Exchange over = GetOnItsOwnConnection(serve.port(), "/healthz");
  EXPECT_TRUE(over == Exchange::kClosedUnanswered || over == Exchange::kReset)
      << "the connection over the limit of " << limit << " was answered";
  EXPECT_EQ(serve.Get("/healthz").status, 200) << "a connection held is still served";
  close(held.back());
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(GetOnItsOwnConnection(serve.port(), "/healthz"), Exchange::kAnswered);
  for (const int fd : held) close(fd);
}

// Idle connections cannot use up the descriptors the stores need: new ones beyond a limit
// are closed at once. Before, 20,000 idle connections made uploads on the connections already
// open fail with 500 and 507.
TEST_F(ServeTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start({"--max-connections=5"});
  ExpectConnectionsOverTheLimitClosed(serve, 5);
  EXPECT_EQ(serve.Terminate(), 0);
}

// Resident memory of a process, in bytes.
std::size_t ResidentBytes(pid_t pid) {
  std::ifstream status(std::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}

// A client that sends requests without reading the answers made the server keep them all:
// 10,000 requests for the OpenAPI document (430 KB) held 595 MB. The connection is now shut
// once its answers fill its send buffer unread, and the server goes on serving the others.
TEST_F(ServeTest, AClientThatSendsRequestsWithoutReadingTheAnswersIsCutOff) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  const std::size_t before = ResidentBytes(serve.pid());
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(serve.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  std::string requests;
  for (int i = 0; i < 10'000; ++i) {
    requests += "GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n";
  }
  std::size_t sent = 0;
  while (sent < requests.size()) {
    const ssize_t part = send(fd, requests.data() + sent, requests.size() - sent, MSG_NOSIGNAL);
    if (part <= 0) break;  // shut by the server
    sent += static_cast<std::size_t>(part);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::size_t during = ResidentBytes(serve.pid());
  std::string answers;
  EXPECT_FALSE(ReadUntilClosed(fd, answers) && answers.size() > 100 * 1024 * 1024)
      << "the connection was served to the end";
  close(fd);
  EXPECT_LT(during, before + 100 * 1024 * 1024)
      << "resident memory went from " << before << " to " << during << " bytes";
  EXPECT_EQ(serve.Get("/healthz").status, 200);
  EXPECT_EQ(serve.Terminate(), 0);
}

// A GIF of 48 bytes that declares 10000 x 9999 pixels is within the pixel limit, and libvips
// decodes it whole to make its thumbnail: half a gigabyte. Six requests for it at once took
// the web tier to 2.6 GB; they now share one render, and renders run one at a time.
TEST_F(ServeTest, ConcurrentRequestsForAThumbnailShareOneBoundedRender) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  // A two-colour screen of 10000 x 9999 and one frame as large, its pixel data cut short.
  std::string gif = "GIF89a";
  for (const int byte :
       {0x10, 0x27, 0x0F, 0x27, 0x80, 0,    0,    0, 0,    0,    0xFF, 0xFF, 0xFF, 0x2C, 0,
        0,    0,    0,    0x10, 0x27, 0x0F, 0x27, 0, 0x02, 0x02, 0x44, 0x01, 0,    0x3B}) {
    gif += static_cast<char>(byte);
  }
  const std::filesystem::path file = dir_.path() / "wide.gif";
  std::ofstream(file, std::ios::binary) << gif;
  const HttpResult uploaded = serve.Upload("/api/v1/images", {{"file", file}});
  ASSERT_EQ(uploaded.status, 202) << uploaded.body;
  const std::string id = uploaded.json["images"][0]["id"].asString();
  serve.AwaitAll({id});

  const std::size_t before = ResidentBytes(serve.pid());
  std::atomic<bool> done = false;
  std::size_t peak = before;
  std::jthread sampler([&] {
    while (!done) {
      peak = std::max(peak, ResidentBytes(serve.pid()));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const std::string request = "GET /api/v1/images/" + id +
                              "/thumbnail HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                              serve.bearer() + "\r\nConnection: close\r\n\r\n";
  std::vector<std::future<std::string>> answers;
  answers.reserve(6);
  for (int i = 0; i < 6; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      return RawExchange(serve.port(), request, std::chrono::seconds(60));
    }));
  }
  for (auto& answer : answers) {
    const std::string text = answer.get();
    EXPECT_THAT(text, ::testing::StartsWith("HTTP/1.1 200 ")) << text.substr(0, 300);
  }
  done = true;
  sampler.join();
  const std::size_t megabyte = 1024 * 1024;
  const std::size_t render = 500 * megabyte;  // 10000 x 9999 pixels, RGBA and a copy
  EXPECT_LT(peak, before + 2 * render)
      << "resident memory went from " << before << " to " << peak << " bytes";
  EXPECT_LT(ResidentBytes(serve.pid()), before + 100 * megabyte)
      << "the render's memory was not given back";
  EXPECT_EQ(serve.Terminate(), 0);
}

// An upload the server took in is logged and counted even when its client hung up before the
// answer: Drogon calls no pre-sending advice then, and five stored uploads left no trace.
TEST_F(ServeTest, AnUploadWhoseClientHungUpIsLoggedAndCounted) {
  ServeProcess serve(dir_.path() / "data");
  serve.Start();
  serve.UseNewAccount("owner@example.com");
  const std::string photo = ReadAll(SamplePhotos().front());
  const std::string body =
      "--boundary\r\nContent-Disposition: form-data; name=\"file\"; "
      "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" +
      photo + "\r\n--boundary--\r\n";
  const std::string request =
      std::format(
          "POST /api/v1/images HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}"
          "\r\nContent-Type: multipart/form-data; boundary=boundary\r\n"
          "Content-Length: {}\r\n\r\n",
          serve.bearer(), body.size()) +
      body;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(serve.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  close(fd);  // without waiting for the answer

  const std::string counted =
      R"(argus_http_requests_total{route="/api/v1/images",method="POST",status="202"})";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (serve.Metric(counted) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(serve.Metric(counted), 1);
  EXPECT_EQ(serve.Get("/api/v1/images").json["images"].size(), 1u) << "stored";
  EXPECT_TRUE(std::regex_search(
      serve.log(), std::regex(R"("method":"POST","path":"/api/v1/images",[^\n]*"status":202)")))
      << serve.log();
  EXPECT_EQ(serve.Terminate(), 0);
}

// A client that hung up (its own or a proxy's timeout) is not waited for: the stop took the
// whole drain timeout for answers no one would read.
TEST_F(ServeTest, SigtermDoesNotWaitForClientsThatHungUp) {
  ServeProcess web(dir_.path() / "data", "web");  // no workers: no result comes
  web.Start({"--sync-timeout=45", "--drain-timeout=20"});
  const std::string photo = ReadAll(SamplePhotos().front());
  const std::string body =
      "--boundary\r\nContent-Disposition: form-data; name=\"myfile\"; "
      "filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" +
      photo + "\r\n--boundary--\r\n";
  const std::string request = std::format(
      "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; "
      "boundary=boundary\r\n"
      "Content-Length: {}\r\n\r\n{}",
      body.size(), body);
  for (int i = 0; i < 2; ++i) {
    const int fd = ConnectToLocalhost(web.port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
    pollfd answer{.fd = fd, .events = POLLIN};
    EXPECT_EQ(poll(&answer, 1, 500), 0) << "answered at once: nothing would wait";
    close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_EQ(web.Terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(10))
      << "the stop waited for clients that had hung up";
}

}  // namespace
}  // namespace argus::e2e
