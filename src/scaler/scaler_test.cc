#include "scaler/scaler.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "common/temp_dir_test.h"
#include "common/wait_test.h"
#include "queue/queue.h"

namespace argus::scaler {
namespace {

using std::chrono::milliseconds;

TEST(RestartBackoffTest, WaitsFromTheSecondFailedStartDoublingUpToTheLongest) {
  const RestartBackoff backoff{.first_delay = milliseconds(500),
                               .longest_delay = milliseconds(3000)};
  EXPECT_EQ(backoff.DelayAfter(0), milliseconds(0));
  EXPECT_EQ(backoff.DelayAfter(1), milliseconds(0)) << "a lone crash is replaced at once";
  EXPECT_EQ(backoff.DelayAfter(2), milliseconds(500));
  EXPECT_EQ(backoff.DelayAfter(3), milliseconds(1000));
  EXPECT_EQ(backoff.DelayAfter(4), milliseconds(2000));
  EXPECT_EQ(backoff.DelayAfter(5), milliseconds(3000));
  EXPECT_EQ(backoff.DelayAfter(1000), milliseconds(3000));
}

// A real scaler over a real SQLite queue, with "workers" that are shell commands.
class ScalerTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto queue = queue::OpenQueue("sqlite://" + (dir_ / "queue.db").string(), {});
    ASSERT_TRUE(queue) << queue.error().message;
    queue_ = std::move(*queue);
  }

  // Ticks every 20 ms for `span`.
  static void TickFor(Scaler& scaler, milliseconds span) {
    const auto end = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < end) {
      scaler.Tick();
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  std::unique_ptr<queue::Queue> queue_;
};

TEST_F(ScalerTest, WorkersThatFailAtStartAreStartedEverMoreSlowly) {
  WorkerPool pool({"/bin/sh", "-c", "exit 3"}, {});
  Scaler scaler(*queue_, pool, {.min_workers = 1, .max_workers = 1}, milliseconds(20),
                {.start_grace = milliseconds(5000),
                 .first_delay = milliseconds(200),
                 .longest_delay = milliseconds(800)});
  TickFor(scaler, milliseconds(2500));
  // Starts at about 0, 0.02, 0.24, 0.66 and 1.48 s, then every 0.8 s; at every tick there
  // would have been over a hundred.
  const ScalerStatus status = scaler.Status();
  EXPECT_GE(status.crashes, 4u);
  EXPECT_LE(status.crashes, 8u);
  EXPECT_EQ(status.failed_starts, static_cast<int>(status.crashes));
  pool.StopAll(milliseconds(1000));
}

TEST_F(ScalerTest, AWorkerThatStaysUpEndsTheBackoff) {
  // Fails its first three starts, then runs.
  const std::string count = (dir_ / "starts").string();
  WorkerPool pool({"/bin/sh", "-c",
                   "n=$(cat " + count + " 2>/dev/null || echo 0); echo $((n + 1)) > " + count +
                       "; [ \"$n\" -ge 3 ] && exec sleep 60; exit 3"},
                  {"PATH=/usr/bin:/bin"});
  Scaler scaler(*queue_, pool, {.min_workers = 1, .max_workers = 1}, milliseconds(20),
                {.start_grace = milliseconds(300),
                 .first_delay = milliseconds(50),
                 .longest_delay = milliseconds(100)});
  TickFor(scaler, milliseconds(1500));
  const ScalerStatus status = scaler.Status();
  EXPECT_EQ(status.crashes, 3u);
  EXPECT_EQ(status.running, 1);
  EXPECT_EQ(status.failed_starts, 0) << "the fourth worker has been up past the grace";
  pool.StopAll(milliseconds(1000));
}

TEST_F(ScalerTest, AWorkerUpAllAlongDoesNotEndTheBackoffOfNewOnesThatFail) {
  // The first start runs (mkdir succeeds once); every later one fails, as after a model
  // was removed.
  const std::string first = (dir_ / "first").string();
  WorkerPool pool({"/bin/sh", "-c", "mkdir " + first + " 2>/dev/null && exec sleep 60; exit 3"},
                  {"PATH=/usr/bin:/bin"});
  Scaler scaler(*queue_, pool, {.min_workers = 2, .max_workers = 2}, milliseconds(20),
                {.start_grace = milliseconds(300),
                 .first_delay = milliseconds(200),
                 .longest_delay = milliseconds(800)});
  TickFor(scaler, milliseconds(2500));
  const ScalerStatus status = scaler.Status();
  EXPECT_EQ(status.running, 1);
  EXPECT_GE(status.crashes, 4u);
  EXPECT_LE(status.crashes, 8u) << "restarted at every tick";
  EXPECT_EQ(status.failed_starts, static_cast<int>(status.crashes));
  pool.StopAll(milliseconds(1000));
}

// A crashed worker is started again as a decision of its own, "restart", not as a scale-out:
// demand did not grow.
TEST_F(ScalerTest, ReplacingACrashedWorkerIsARestartNotAScaleOut) {
  WorkerPool pool({"/bin/sh", "-c", "exec sleep 60"}, {"PATH=/usr/bin:/bin"});
  Scaler scaler(*queue_, pool, {.min_workers = 2, .max_workers = 2}, milliseconds(20));
  scaler.Tick();
  ASSERT_EQ(scaler.Status().running, 2);
  ASSERT_EQ(::kill(scaler.Status().worker_pids.front(), SIGKILL), 0);
  TickFor(scaler, milliseconds(500));

  const ScalerStatus status = scaler.Status();
  EXPECT_EQ(status.running, 2);
  EXPECT_EQ(status.crashes, 1u);
  EXPECT_EQ(status.scale_outs, 1u) << "only the start's";
  EXPECT_EQ(status.restarts, 1u);
  ASSERT_EQ(status.recent_decisions.size(), 2u);
  const ScalingDecision& restart = status.recent_decisions.back().decision;
  EXPECT_EQ(ActionName(restart.action), "restart");
  EXPECT_EQ(restart.from, 1);
  EXPECT_EQ(restart.to, 2);
  EXPECT_EQ(restart.reason, "replacing 1 crashed worker");
  pool.StopAll(milliseconds(1000));
}

// A worker that hangs while it finishes its batch held the service's stop for the whole 30 s
// grace, whatever the stall timeout; it is killed once silent for that timeout, as it would be
// while running, and not said to be replaced.
TEST_F(ScalerTest, AWorkerThatHangsWhileStoppingIsKilledAtTheStallTimeout) {
  // Ignores SIGTERM (the disposition survives exec) and never beats.
  const std::filesystem::path ignoring = dir_ / "ignoring";
  WorkerPool pool({"/bin/sh", "-c", "trap '' TERM; touch " + ignoring.string() + "; exec sleep 60"},
                  {"PATH=/usr/bin:/bin"});
  Scaler scaler(*queue_, pool,
                {.min_workers = 1, .max_workers = 1, .stall_timeout = milliseconds(300)},
                milliseconds(20));
  scaler.Tick();
  ASSERT_EQ(scaler.Status().running, 1);
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(ignoring); }, milliseconds(10000)));
  std::stop_source stop;
  stop.request_stop();
  const auto started = std::chrono::steady_clock::now();
  ::testing::internal::CaptureStderr();
  scaler.Run(stop.get_token());
  const std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10))
      << "not the 30 s grace";
  EXPECT_EQ(scaler.Status().stalls, 1u);
  EXPECT_EQ(pool.stopping(), 0);
  EXPECT_NE(logged.find("killed while it was being stopped"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("to be replaced"), std::string::npos) << logged;
}

// A stopping service starts workers for the jobs its waiting clients need, not for the
// minimum alone.
TEST_F(ScalerTest, AfterDrainWorkersAreStartedOnlyForWaitingJobs) {
  WorkerPool pool({"/bin/sh", "-c", "exec sleep 60"}, {"PATH=/usr/bin:/bin"});
  Scaler scaler(*queue_, pool, {.min_workers = 1, .max_workers = 2}, milliseconds(20));
  scaler.Drain();
  TickFor(scaler, milliseconds(200));
  EXPECT_EQ(scaler.Status().running, 0);
  EXPECT_EQ(scaler.Status().scale_outs, 0u);
  ASSERT_TRUE(queue_->Enqueue(R"({"image_id":"a"})"));
  scaler.Tick();
  EXPECT_EQ(scaler.Status().running, 1);
  pool.StopAll(milliseconds(1000));
}

}  // namespace
}  // namespace argus::scaler
