#include "cli/service_options.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <format>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/run_argus_test.h"
#include "common/file_descriptor.h"
#include "common/small_file_system_test.h"
#include "common/temp_dir_test.h"
#include "common/unused_port_test.h"

namespace argus::cli {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(WorkerCommandTest, SharesTheCoresAmongTheMostWorkersUnlessThreadsAreSet) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const StorageOptions storage;
  WorkerSettings settings;

  auto alone = WorkerCommand(storage, settings, "", 1);
  EXPECT_THAT(alone, Contains("--engine-threads=" + std::to_string(cores)));
  EXPECT_THAT(alone, Contains("--decode-threads=" + std::to_string(cores)));
  EXPECT_THAT(alone, Contains("--engine-spin=true")) << "a lone worker may spin";

  auto crowded = WorkerCommand(storage, settings, "", 4 * cores);
  EXPECT_THAT(crowded, Contains("--engine-threads=1")) << "never fewer than one";
  EXPECT_THAT(crowded, Contains("--decode-threads=1"));
  EXPECT_THAT(crowded, Contains("--engine-spin=false"));

  settings.engine_threads = 3;
  settings.worker.decode_threads = 5;
  auto configured = WorkerCommand(storage, settings, "", 4 * cores);
  EXPECT_THAT(configured, Contains("--engine-threads=3"));
  EXPECT_THAT(configured, Contains("--decode-threads=5"));
}

// The parsed durability, or nullopt when the command line was refused.
std::optional<DurabilityLevel> ParseDurability(std::vector<std::string> arguments) {
  CLI::App command;
  StorageOptions storage;
  AddStorageOptions(command, storage);
  std::ranges::reverse(arguments);  // CLI11 takes them last first
  try {
    command.parse(arguments);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return storage.durability;
}

TEST(StorageOptionsTest, DurabilityIsProcessUnlessPowerIsAskedForByFlagOrEnvironment) {
  EXPECT_EQ(ParseDurability({}), DurabilityLevel::kProcessCrash);
  EXPECT_EQ(ParseDurability({"--durability=power"}), DurabilityLevel::kPowerLoss);
  EXPECT_EQ(ParseDurability({"--durability", "Power"}), DurabilityLevel::kPowerLoss);
  EXPECT_EQ(ParseDurability({"--durability=process"}), DurabilityLevel::kProcessCrash);
  EXPECT_EQ(ParseDurability({"--durability=disk"}), std::nullopt);

  ASSERT_EQ(setenv("ARGUS_DURABILITY", "power", 1), 0);
  EXPECT_EQ(ParseDurability({}), DurabilityLevel::kPowerLoss);
  EXPECT_EQ(ParseDurability({"--durability=process"}), DurabilityLevel::kProcessCrash)
      << "the flag overrides the environment";
  ASSERT_EQ(unsetenv("ARGUS_DURABILITY"), 0);
}

class ScalingOptionsTest : public TempDirTest {
 protected:
  using Bounds = std::pair<int, int>;  // fewest and most workers

  // The worker bounds parsed from `arguments` (and `config_file`'s lines, when given)
  // starting from serve's defaults on a 2-core machine, or nullopt when they were refused.
  std::optional<Bounds> Parse(std::vector<std::string> arguments,
                              const std::string& config_file = "") {
    CLI::App command;
    command.set_config("--config");
    scaler::ScalingOptions scaling{.min_workers = 1, .max_workers = 2};
    int cooldown_s = 0;
    AddScalingOptions(command, scaling, cooldown_s);
    if (!config_file.empty()) {
      const std::filesystem::path path = dir_ / "argus.toml";
      std::ofstream(path) << config_file;
      arguments.push_back("--config=" + path.string());
    }
    std::ranges::reverse(arguments);
    try {
      command.parse(arguments);
      SettleWorkerBounds(command, scaling);
    } catch (const CLI::ParseError&) {
      return std::nullopt;
    }
    return Bounds{scaling.min_workers, scaling.max_workers};
  }
};

TEST_F(ScalingOptionsTest, MinimumAboveTheDefaultMaximumRaisesIt) {
  EXPECT_EQ(Parse({"--min-workers=3"}), Bounds(3, 3));
  EXPECT_EQ(Parse({"--min-workers=0"}), Bounds(0, 2))
      << "the default stays when the minimum fits under it";
}

TEST_F(ScalingOptionsTest, MinimumAboveAGivenMaximumIsRefused) {
  EXPECT_FALSE(Parse({"--min-workers=3", "--max-workers=1"}));
  EXPECT_TRUE(Parse({"--min-workers=2", "--max-workers=2"}));
  EXPECT_FALSE(Parse({}, "min-workers = 3\nmax-workers = 1\n"))
      << "both from the configuration file";
  EXPECT_FALSE(Parse({"--min-workers=3"}, "max-workers = 1\n"));

  ASSERT_EQ(setenv("ARGUS_MAX_WORKERS", "1", 1), 0);
  EXPECT_FALSE(Parse({"--min-workers=3"})) << "a maximum from the environment counts";
  ASSERT_EQ(unsetenv("ARGUS_MAX_WORKERS"), 0);
}

TEST(WorkerCommandTest, PassesTheDurabilityOn) {
  StorageOptions storage;
  EXPECT_THAT(WorkerCommand(storage, {}, "", 1), Contains("--durability=process"));
  storage.durability = DurabilityLevel::kPowerLoss;
  EXPECT_THAT(WorkerCommand(storage, {}, "", 1), Contains("--durability=power"));
}

TEST(WorkerCommandTest, GivesTheDataDirectoryAsAnAbsolutePath) {
  // The worker listens for announced uploads in a folder of the data directory, and may not
  // share the scaler's working directory.
  StorageOptions storage{.data_dir = "relative/./data"};
  EXPECT_THAT(
      WorkerCommand(storage, {}, "", 1),
      Contains("--data-dir=" + (std::filesystem::current_path() / "relative/data").string()));
}

// --durability is a promise of the stores on this machine; with none of them in use it
// says nothing, and the operations status leaves it out.
TEST(StorageOptionsTest, DurabilityAppliesOnlyWhenAStoreOnThisMachineIsUsed) {
  const StorageOptions cluster{.catalog_url = "postgresql://argus@db/argus",
                               .queue_url = "nats://nats:4222",
                               .blob_url = "s3://minio:9000/argus",
                               .events_url = "nats://nats:4222"};
  EXPECT_FALSE(cluster.DurabilityApplies());

  StorageOptions sqlite_catalog = cluster;
  sqlite_catalog.catalog_url = "sqlite:///srv/argus/catalog.db";
  EXPECT_TRUE(sqlite_catalog.DurabilityApplies());
  StorageOptions sqlite_queue = cluster;
  sqlite_queue.queue_url = "sqlite:///srv/argus/queue.db";
  EXPECT_TRUE(sqlite_queue.DurabilityApplies());
  for (const char* folder : {"file:///srv/argus/blobs", "/srv/argus/blobs"}) {
    StorageOptions local_blobs = cluster;
    local_blobs.blob_url = folder;
    EXPECT_TRUE(local_blobs.DurabilityApplies()) << folder;
  }
}

class ServiceStartTest : public TempDirTest {};

// A data directory the service cannot write in is a start-up error named in the log, for
// every command that has one; it used to abort the process.
TEST_F(ServiceStartTest, ServiceCommandsRefuseADataDirectoryTheyCannotWriteIn) {
  SmallFileSystem read_only(dir_ / "ro", "64k", MS_RDONLY);
  if (!read_only.mounted()) GTEST_SKIP() << "cannot mount a file system: " << read_only.error();
  for (const char* command : {"serve", "web", "worker"}) {
    const Outcome refused =
        RunArgus(std::string(command) + " --data-dir=" + (dir_ / "ro").string(), "timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("cannot write in data directory")) << command;
  }

  const std::filesystem::path data = dir_ / "data";
  std::filesystem::create_directories(data);
  std::ofstream(data / "tmp") << "a file where the spool folder goes";
  const Outcome spool = RunArgus("serve --data-dir=" + data.string(), "timeout 60");
  EXPECT_EQ(spool.exit_code, 2) << spool.err;
  EXPECT_THAT(spool.err, HasSubstr("for request bodies"));
}

// A start refused at its checks leaves the file system as it was: refused before the data
// directory was needed (a port in use, a host that is not an address, a missing model) or
// after the directory and the first stores in it were made (a queue URL of no known kind).
TEST_F(ServiceStartTest, AFailedStartLeavesNoDataDirectoryBehind) {
  FileDescriptor taken(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{.sin_family = AF_INET, .sin_addr = {.s_addr = htonl(INADDR_LOOPBACK)}};
  socklen_t size = sizeof address;
  ASSERT_EQ(::bind(taken.Get(), reinterpret_cast<sockaddr*>(&address), size), 0);
  ASSERT_EQ(::listen(taken.Get(), 1), 0);
  ASSERT_EQ(::getsockname(taken.Get(), reinterpret_cast<sockaddr*>(&address), &size), 0);
  const std::string port_in_use = std::to_string(ntohs(address.sin_port));
  // Nested, so that the parents a start creates must go too.
  const std::string data = " --data-dir=" + (dir_ / "new" / "data").string();
  const std::pair<std::string, std::string> refusals[] = {
      {"serve --host=127.0.0.1 --port=" + port_in_use, "cannot listen on"},
      {"web --host=127.0.0.1 --port=" + port_in_use, "cannot listen on"},
      {"web --host=localhost", "--host must be an IPv4 or IPv6 address"},
      {"web --port=" + std::to_string(UnusedLoopbackPort()) + " --web-dir=" + dir_.string(),
       "holds no built web app"},
      {"serve --model=nope", "nope"},
      {"scaler --model=nope", "nope"},
      {"worker --model=nope", "nope"},
      {"web --port=" + std::to_string(UnusedLoopbackPort()) + " --queue=bogus://x",
       "unsupported queue URL"},
      {"worker --queue=bogus://x", "no data directory"},
      {"web --port=" + std::to_string(UnusedLoopbackPort()) + " --presigned-downloads",
       "presigned URLs need an S3 blob store"}};
  for (const auto& [command, reason] : refusals) {
    const Outcome refused =
        RunArgus(command + data, "ARGUS_ASSETS_DIR=" ARGUS_TEST_SHARED_DIR "/assets timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
    EXPECT_THAT(refused.err, HasSubstr(reason)) << command;
    // Each command's own lines are under its name.
    const std::string name = command.substr(0, command.find(' '));
    if (name == "serve" || name == "web") {
      EXPECT_THAT(refused.err, HasSubstr(R"("component":")" + name + R"(","level":"error")"))
          << command;
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / "new")) << command << " left it";
    std::filesystem::remove_all(dir_ / "new");
  }

  // A directory that was there before stays, with what it held.
  std::filesystem::create_directories(dir_ / "kept");
  std::ofstream(dir_ / "kept" / "notes.txt") << "the operator's";
  const Outcome refused = RunArgus("web --port=" + std::to_string(UnusedLoopbackPort()) +
                                       " --queue=bogus://x --data-dir=" + (dir_ / "kept").string(),
                                   "timeout 60");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "kept" / "notes.txt"));
}

// A data directory that lost its catalog (deleted, or left out of a restore) while it holds
// a service's uploads or queue is refused: a new empty catalog would have dropped every
// account and photo record without a word.
TEST_F(ServiceStartTest, AServiceWhoseCatalogIsLostRefusesToStartAfresh) {
  const std::filesystem::path uploads = dir_ / "uploads";
  std::filesystem::create_directories(uploads / "blobs" / "inputs");
  std::ofstream(uploads / "blobs" / "inputs" / std::string(64, 'a')) << "a photo's bytes";
  const std::filesystem::path queued = dir_ / "queued";
  std::filesystem::create_directories(queued);
  std::ofstream(queued / "queue.db") << "";
  for (const auto& [data, held] : {std::pair{uploads, "uploads"}, std::pair{queued, "queue"}}) {
    for (const char* command : {"serve", "web"}) {
      const Outcome refused = RunArgus(std::format("{} --host=127.0.0.1 --port={} --data-dir={}",
                                                   command, UnusedLoopbackPort(), data.string()),
                                       "timeout 60");
      EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
      EXPECT_THAT(refused.err,
                  HasSubstr(std::format("no catalog at {}, though {} holds a "
                                        "service's {}",
                                        (data / "catalog.db").string(), data.string(), held)))
          << command;
      EXPECT_FALSE(std::filesystem::exists(data / "catalog.db")) << command;
    }
  }
  // Nor does a worker or a scaler (whose workers would) make a new one beside the uploads; a
  // queue alone is no sign, as a scaler started before its web tier makes it.
  for (const std::string& command :
       {std::string("worker"), "scaler --metrics-port=" + std::to_string(UnusedLoopbackPort())}) {
    const Outcome refused =
        RunArgus(command + " --data-dir=" + uploads.string(),
                 "ARGUS_ASSETS_DIR=" ARGUS_TEST_SHARED_DIR "/assets timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("no catalog at " + (uploads / "catalog.db").string()));
    EXPECT_FALSE(std::filesystem::exists(uploads / "catalog.db")) << command;
  }
}

// An IPv6 address is listened on, like an IPv4 one.
TEST_F(ServiceStartTest, TheWebTierListensOnAnIpv6Address) {
  const int port = UnusedLoopbackPort();
  const std::filesystem::path answer = dir_ / "answer";
  // {0} source folder, {1} binary, {2} port, {3} data folder, {4} log, {5} answer.
  const std::string script = std::format(
      "cd {0} || exit 1; {1} web --host=::1 --port={2} --data-dir={3} 2>{4} & "
      "server=$!; for i in $(seq 200); do "
      "curl -sf --max-time 2 http://[::1]:{2}/healthz >{5} && break; sleep 0.05; done; "
      "kill -TERM $server; wait $server",
      ARGUS_TEST_SOURCE_DIR, ARGUS_BINARY, port, (dir_ / "data").string(), (dir_ / "log").string(),
      answer.string());
  EXPECT_EQ(std::system(("bash -c '" + script + "'").c_str()), 0);
  std::stringstream text;
  text << std::ifstream(answer).rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("ok"));
  std::stringstream log;
  log << std::ifstream(dir_ / "log").rdbuf();
  EXPECT_THAT(log.str(), HasSubstr(std::format("listening on http://[::1]:{}", port)));

  const Outcome named = RunArgus("web --host=localhost --data-dir=" + (dir_ / "d2").string());
  EXPECT_EQ(named.exit_code, 2);
  EXPECT_THAT(named.err, HasSubstr("--host must be an IPv4 or IPv6 address"));
}

// Workers elsewhere publish their results where this process cannot hear them.
TEST_F(ServiceStartTest, ANatsQueueWithUnixEventsIsWarnedAbout) {
  // Nothing listens there: the worker waits for the queue, trying again each second, until
  // it is told to stop.
  const std::string stopped_after_4s = "timeout --preserve-status -s TERM 4";
  std::filesystem::create_directories(dir_ / "data");
  const Outcome worker =
      RunArgus("worker --data-dir=" + (dir_ / "data").string() + " --queue=nats://127.0.0.1:1",
               stopped_after_4s);
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_THAT(worker.err, HasSubstr("waiting for the stores"));
  const std::string warning = "the queue is on NATS but events go over a Unix socket";
  const std::size_t first = worker.err.find(warning);
  EXPECT_NE(first, std::string::npos);
  EXPECT_EQ(worker.err.find(warning, first + 1), std::string::npos) << "warned once";
  const Outcome both = RunArgus("worker --data-dir=" + (dir_ / "data").string() +
                                    " --queue=nats://127.0.0.1:1 --events=nats://127.0.0.1:1",
                                stopped_after_4s);
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_THAT(both.err, ::testing::Not(HasSubstr("events go over a Unix socket")));
}

// A worker or scaler given a --data-dir the web tier never made (a typo) would make a new
// empty queue there and wait on it for good while the web tier's jobs went unserved.
TEST_F(ServiceStartTest, AWorkerOrScalerRefusesADataDirectoryThatDoesNotExist) {
  for (const std::string& command :
       {std::string("worker"), "scaler --metrics-port=" + std::to_string(UnusedLoopbackPort())}) {
    const Outcome refused =
        RunArgus(command + " --data-dir=" + (dir_ / "typo").string(),
                 "ARGUS_ASSETS_DIR=" ARGUS_TEST_SHARED_DIR "/assets timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("no data directory " + (dir_ / "typo").string())) << command;
    EXPECT_THAT(refused.err, HasSubstr("give the web tier's --data-dir")) << command;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "typo")) << command;
  }
}

// Like serve, the scaler refuses to start workers that could only exit with a setup error.
TEST_F(ServiceStartTest, TheScalerChecksTheModelBeforeStartingWorkers) {
  const Outcome refused =
      RunArgus("scaler --data-dir=" + (dir_ / "data").string() + " --model=nope", "timeout 60");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("nope"));
  EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("worker_start")));
}

// A model file that is there but cannot be loaded, as a download cut short leaves it, is
// refused at the start, like a missing one, rather than by every worker at its own.
TEST_F(ServiceStartTest, AModelThatCannotBeLoadedIsRefusedAtTheStart) {
  const std::filesystem::path model =
      ARGUS_TEST_SHARED_DIR "/assets/models/mobilenetv2-12-int8.onnx";
  std::filesystem::create_directories(dir_ / "cut" / "models");
  std::filesystem::copy(ARGUS_TEST_SHARED_DIR "/assets/labels", dir_ / "cut" / "labels");
  std::string bytes(5000, '\0');
  std::ifstream(model, std::ios::binary)
      .read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::ofstream(dir_ / "cut" / "models" / "mobilenetv2-12-int8.onnx", std::ios::binary) << bytes;
  for (const std::string& command :
       {"serve --port=" + std::to_string(UnusedLoopbackPort()), std::string("scaler")}) {
    const Outcome refused = RunArgus(command + " --data-dir=" + (dir_ / "data").string() +
                                         " --assets-dir=" + (dir_ / "cut").string(),
                                     "timeout 60");
    EXPECT_EQ(refused.exit_code, 2) << command << "\n" << refused.err;
    EXPECT_THAT(refused.err, HasSubstr("cannot load model")) << command;
    EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("worker_start"))) << command;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "data")) << command;
  }
}

// A manifest that calls the model's logits probabilities: every worker failed its first batch,
// crashed and was started again, over and over, and every photo ended failed.
TEST_F(ServiceStartTest, AManifestTheModelDoesNotAnswerToIsRefusedAtTheStart) {
  std::ifstream builtin(ARGUS_TEST_SOURCE_DIR "/models/mobilenetv2-12-int8.json");
  std::string manifest{std::istreambuf_iterator<char>(builtin), {}};
  const std::string logits = R"("kind": "logits")";
  ASSERT_NE(manifest.find(logits), std::string::npos);
  manifest.replace(manifest.find(logits), logits.size(), R"("kind": "probabilities")");
  std::filesystem::create_directories(dir_ / "wrong");
  for (const char* folder : {"models", "labels"}) {
    std::filesystem::create_directory_symlink(
        std::filesystem::path(ARGUS_TEST_SHARED_DIR "/assets") / folder, dir_ / "wrong" / folder);
  }
  std::ofstream(dir_ / "wrong" / "manifest.json") << manifest;
  const Outcome refused = RunArgus("serve --port=" + std::to_string(UnusedLoopbackPort()) +
                                       " --data-dir=" + (dir_ / "data").string() +
                                       " --model=" + (dir_ / "wrong" / "manifest.json").string(),
                                   "timeout 60");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("output.kind should be \\\"logits\\\""));
  EXPECT_THAT(refused.err, ::testing::Not(HasSubstr("worker_start")));
}

// The scaler's /metrics and /healthz have a port of their own, not the web tier's 8080.
TEST_F(ServiceStartTest, TheScalerListsItsMetricsPortAndRefusesOneThatIsTaken) {
  const Outcome help = RunArgus("scaler --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--metrics-port"));
  EXPECT_THAT(help.out, HasSubstr("ARGUS_METRICS_PORT"));
  EXPECT_THAT(help.out, HasSubstr("8081"));
  EXPECT_THAT(help.out, HasSubstr("--metrics-host"));

  const int port = UnusedLoopbackPort();
  FileDescriptor holder(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{.sin_family = AF_INET, .sin_port = htons(static_cast<std::uint16_t>(port))};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder.Get(), 1), 0);
  const std::string data = " --data-dir=" + (dir_ / "data").string();
  const Outcome taken = RunArgus(
      std::format("scaler --metrics-host=127.0.0.1 --metrics-port={}", port) + data, "timeout 60");
  EXPECT_EQ(taken.exit_code, 2) << taken.err;
  EXPECT_THAT(taken.err, HasSubstr(std::format("cannot listen on 127.0.0.1:{}", port)));

  const Outcome named = RunArgus("scaler --metrics-host=localhost" + data, "timeout 60");
  EXPECT_EQ(named.exit_code, 2) << named.err;
  EXPECT_THAT(named.err, HasSubstr("--metrics-host must be an IPv4 or IPv6 address"));
}

// The web tier checks uploads against the image limits and runs no model: its help lists
// only what it uses.
TEST(WebCommandTest, OffersTheImageLimitsButNoWorkerSettings) {
  const Outcome help = RunArgus("web --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--max-bytes"));
  EXPECT_THAT(help.out, HasSubstr("--drain-timeout"));
  EXPECT_THAT(help.out, HasSubstr("--no-anonymous-classify (Env:ARGUS_ANONYMOUS_CLASSIFY)"));
  for (const char* worker_only : {"--model", "--max-batch", "--engine-threads", "--min-workers"}) {
    EXPECT_THAT(help.out, ::testing::Not(HasSubstr(worker_only))) << worker_only;
  }
}

TEST(WebCommandTest, RefusesTrustedProxiesThatAreNotAddresses) {
  for (const char* command : {"serve", "web"}) {
    const Outcome refused =
        RunArgus(std::string(command) + " --trusted-proxies=10.0.0.0/8,10.0.0.0/33");
    EXPECT_EQ(refused.exit_code, 2) << command;
    EXPECT_THAT(refused.err, HasSubstr("\"10.0.0.0/33\" is not an IP address or network"))
        << command;
  }
}

// The environment a test worker gets, less the store URLs every worker's has.
std::vector<std::string> WithoutUrls(std::vector<std::string> environment) {
  std::erase_if(environment, [](const std::string& variable) {
    return variable.starts_with("ARGUS_") && variable.find("_URL=") != std::string::npos;
  });
  return environment;
}

TEST(WorkerEnvironmentTest, AsksForHugePagesAndKeepsEverythingElse) {
  const StorageOptions storage;
  const char* plain[] = {"PATH=/usr/bin", "HOME=/root", nullptr};
  EXPECT_THAT(WithoutUrls(WorkerEnvironment(plain, storage)),
              ::testing::ElementsAre("PATH=/usr/bin", "HOME=/root",
                                     "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"));

  const char* tuned[] = {"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "HOME=/root", nullptr};
  EXPECT_THAT(WithoutUrls(WorkerEnvironment(tuned, storage)),
              ::testing::ElementsAre(
                  "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", "HOME=/root"));

  const char* declined[] = {"GLIBC_TUNABLES=glibc.malloc.hugetlb=0", nullptr};
  EXPECT_THAT(WithoutUrls(WorkerEnvironment(declined, storage)),
              ::testing::ElementsAre("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"))
      << "an operator's own setting wins";

  const char* empty[] = {"GLIBC_TUNABLES=", nullptr};
  EXPECT_THAT(WithoutUrls(WorkerEnvironment(empty, storage)),
              ::testing::ElementsAre("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"));
}

// Store URLs may hold credentials, which a command line shows to every user of the machine.
TEST(WorkerEnvironmentTest, CarriesTheStoreUrlsThatTheCommandLineLeavesOut) {
  StorageOptions storage;
  storage.catalog_url = "postgresql://argus:secret@db/argus";
  storage.queue_url = "nats://user:secret@nats:4222";
  storage.blob_url = "s3://KEY:SECRET@s3.example.com/bucket";
  storage.events_url = "nats://user:secret@nats:4222";
  const char* inherited[] = {"ARGUS_CATALOG_URL=sqlite:///old.db", "HOME=/root", nullptr};
  const std::vector<std::string> environment = WorkerEnvironment(inherited, storage);
  EXPECT_THAT(environment, Contains("ARGUS_CATALOG_URL=postgresql://argus:secret@db/argus"));
  EXPECT_THAT(environment, ::testing::Not(Contains("ARGUS_CATALOG_URL=sqlite:///old.db")));
  EXPECT_THAT(environment, Contains("ARGUS_QUEUE_URL=nats://user:secret@nats:4222"));
  EXPECT_THAT(environment, Contains("ARGUS_BLOB_URL=s3://KEY:SECRET@s3.example.com/bucket"));
  EXPECT_THAT(environment, Contains("ARGUS_EVENTS_URL=nats://user:secret@nats:4222"));
  for (const std::string& argument : WorkerCommand(storage, {}, "", 1)) {
    EXPECT_EQ(argument.find("secret"), std::string::npos) << argument;
    EXPECT_EQ(argument.find("SECRET"), std::string::npos) << argument;
  }
}

}  // namespace
}  // namespace argus::cli
