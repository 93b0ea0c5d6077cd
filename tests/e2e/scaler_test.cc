// End-to-end test of `argus scaler` on its own: the real binary beside an `argus web` on one
// data directory, its decisions read from its own /metrics as Prometheus would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <format>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "events/nats_test_server.h"
#include "serve_process.h"

namespace argus::e2e {
namespace {

using ::testing::HasSubstr;

// The whole answer, headers included, to GET `path` on the loopback `port` ("" when nothing
// answered).
std::string HttpGet(int port, const std::string& path) {
  return RawExchange(port,
                     "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     std::chrono::seconds(5));
}

// Scrapes /metrics until its text has `line` (or 60 s have passed) and returns the last answer.
std::string ScrapeUntil(int port, const std::string& line) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string answer = HttpGet(port, "/metrics");
  while (answer.find(line) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    answer = HttpGet(port, "/metrics");
  }
  return answer;
}

TEST(ScalerProcessTest, ItsMetricsCountTheScaleOutThatQueuedJobsCause) {
  TempDir dir;
  ServeProcess web(dir.path() / "data", "web");
  web.Start();
  ASSERT_TRUE(web.running());
  web.UseNewAccount("owner@example.com");
  const auto metrics_port = nats::FreePort();
  ASSERT_TRUE(metrics_port) << metrics_port.error().message;
  ArgusProcess scaler(dir.path() / "data", "scaler");
  scaler.Start({"--min-workers=0", "--max-workers=1", "--metrics-host=127.0.0.1",
                std::format("--metrics-port={}", *metrics_port)},
               "/metrics");
  ASSERT_TRUE(scaler.running());

  // No jobs: no worker wanted, none started, no decision yet.
  const std::string idle = ScrapeUntil(*metrics_port, "argus_queue_jobs{state=\"ready\"} 0\n");
  EXPECT_THAT(idle, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(idle, HasSubstr("# TYPE argus_workers gauge\n"));
  EXPECT_THAT(idle, HasSubstr("argus_workers{state=\"desired\"} 0\n"));
  EXPECT_THAT(idle, HasSubstr("argus_workers{state=\"running\"} 0\n"));
  EXPECT_THAT(idle, HasSubstr("argus_scaler_decisions_total{action=\"scale_out\"} 0\n"));
  EXPECT_THAT(idle, HasSubstr("argus_worker_crashes_total 0\n"));
  EXPECT_THAT(idle, HasSubstr("argus_queue_jobs{state=\"ready\"} 0\n"));
  EXPECT_THAT(idle, ::testing::Not(HasSubstr("argus_http_requests_total")))
      << "the web tier's families are not the scaler's";
  EXPECT_THAT(HttpGet(*metrics_port, "/healthz"), HasSubstr("\"status\":\"ok\""));
  // Answered as the web tier answers (it was Drogon's HTML 404, a 405 without Allow, a 403 to
  // OPTIONS, and no access line).
  const std::string unknown = HttpGet(*metrics_port, "/no/such/path");
  EXPECT_THAT(unknown, HasSubstr("HTTP/1.1 404"));
  EXPECT_THAT(unknown, HasSubstr("\"code\":\"not_found\""));
  const std::string posted = RawExchange(
      *metrics_port,
      "POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      std::chrono::seconds(5));
  EXPECT_THAT(posted, HasSubstr("HTTP/1.1 405"));
  EXPECT_THAT(posted, HasSubstr("allow: GET, HEAD, OPTIONS"));
  EXPECT_THAT(scaler.log(), HasSubstr("\"path\":\"/no/such/path\""));

  std::vector<std::filesystem::path> files = SamplePhotos();
  files.resize(3);
  const std::vector<std::string> ids = UploadConcurrently(web, files, 3, 1);
  ASSERT_EQ(ids.size(), files.size());
  const std::string scaled =
      ScrapeUntil(*metrics_port, "argus_scaler_decisions_total{action=\"scale_out\"} 1\n");
  EXPECT_THAT(scaled, HasSubstr("argus_scaler_decisions_total{action=\"scale_out\"} 1\n"))
      << scaled << scaler.log();
  // Scaling in waits for the 30 s cooldown, so the worker is still there.
  EXPECT_THAT(scaled, HasSubstr("argus_workers{state=\"running\"} 1\n"));
  for (const Json::Value& record : web.AwaitAll(ids)) {
    EXPECT_EQ(record["status"].asString(), "done") << record.toStyledString();
  }
  EXPECT_EQ(scaler.Terminate(), 0) << scaler.log();
  EXPECT_EQ(web.Terminate(), 0);
}

// systemd and Kubernetes may stop a unit while it starts: a SIGTERM at any moment of the start
// ends each command cleanly (serve and web crashed in their first 150 ms, and the scaler,
// told to stop in its first 50 ms, ignored every later signal). The signal is sent once the
// process has blocked it, plus a delay: before, it takes the default action. The mask must be
// exactly SIGHUP, SIGINT and SIGTERM (0x4003): right after exec something blocks every signal for a
// moment, and a signal timed from that moment could come before argus blocks it (two of nine
// stops in a loaded CI run).
TEST(StartStopTest, AStopDuringTheStartEndsEveryCommandCleanly) {
  TempDir dir;
  const auto script = dir.path() / "stop-during-start.sh";
  std::ofstream(script) << R"(
"$@" & pid=$!
until grep -qE '^SigBlk:[[:space:]]*0*4003$' /proc/$pid/status 2>/dev/null; do sleep 0.002; done
sleep "$DELAY"
kill -TERM $pid
(sleep 30; kill -KILL $pid) 2>/dev/null & guard=$!
wait $pid; status=$?
kill $guard 2>/dev/null
exit $status
)";
  for (const std::string command : {"serve", "web", "scaler"}) {
    for (const int delay_ms : {0, 50, 150}) {
      const auto port = nats::FreePort();
      ASSERT_TRUE(port);
      const std::string listen = command == "scaler"
                                     ? std::format("--metrics-port {}", *port)
                                     : std::format("--host 127.0.0.1 --port {}", *port);
      const auto data = dir.path() / std::format("{}-{}", command, delay_ms);
      std::filesystem::create_directories(data);  // as the web tier makes it for a scaler
      const int status = std::system(
          std::format("DELAY={} bash {} {} {} {} --data-dir {} >{}.log 2>&1", delay_ms / 1000.0,
                      script.string(), ARGUS_BINARY, command, listen, data.string(), data.string())
              .c_str());
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
          << command << " stopped " << delay_ms << " ms after blocking the signal: exit status "
          << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
  }
}

// A worker started while its catalog's server is down (a restart, a failover) waits for it,
// as a running worker waits through an outage, rather than exiting 2 after 10 s: its scaler
// counted each exit as a crash and backed off the restarts. Told to stop, it exits 0.
TEST(WorkerProcessTest, AWorkerStartedWhileAStoreIsDownWaitsAndStopsCleanly) {
  TempDir dir;
  const auto closed = nats::FreePort();
  ASSERT_TRUE(closed);
  const auto log = dir.path() / "worker.log";
  std::filesystem::create_directories(dir.path() / "data");
  const int status = std::system(
      std::format("{} worker --data-dir {} --catalog postgresql://postgres@127.0.0.1:{}/argus "
                  ">{} 2>&1 & pid=$!; sleep 13; kill -0 $pid || exit 100; kill -TERM $pid; "
                  "wait $pid",
                  ARGUS_BINARY, (dir.path() / "data").string(), *closed, log.string())
          .c_str());
  std::stringstream logged;
  logged << std::ifstream(log).rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << logged.str();
  EXPECT_NE(WEXITSTATUS(status), 100) << "the worker exited while the store was down:\n"
                                      << logged.str();
  EXPECT_EQ(WEXITSTATUS(status), 0) << logged.str();
  EXPECT_THAT(logged.str(), HasSubstr("waiting for the stores: catalog:"));
}

}  // namespace
}  // namespace argus::e2e
