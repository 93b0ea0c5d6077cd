#include "scaler/worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "common/temp_dir_test.h"

namespace argus::scaler {
namespace {

class WorkerPoolTest : public TempDirTest {
 protected:
  // Waits up to 10 s for `path` to be written and returns its text ("" if it never is).
  static std::string ReadWhenWritten(const std::filesystem::path& path) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(path)) {
        std::ifstream in(path);
        std::stringstream text;
        text << in.rdbuf();
        if (!text.str().empty()) return text.str();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "";
  }

  // Reaps until a worker has exited, for up to 10 s.
  static std::vector<WorkerPool::Exit> ExitsWhenThereAre(WorkerPool& pool) {
    std::vector<WorkerPool::Exit> exits;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (exits.empty() && std::chrono::steady_clock::now() < deadline) {
      exits = pool.Reap();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exits;
  }
};

TEST_F(WorkerPoolTest, StartsWorkersWithTheGivenEnvironmentOnly) {
  const std::filesystem::path out = dir_ / "environment";
  // The shell writes the file under a temporary name first, so a reader never sees half.
  WorkerPool pool(
      {"/bin/sh", "-c",
       "printf '%s|%s' \"$GLIBC_TUNABLES\" \"${ARGUS_UNSET_IN_WORKERS:-unset}\" > " + out.string() +
           ".tmp && mv " + out.string() + ".tmp " + out.string() + " && exec sleep 60"},
      {"GLIBC_TUNABLES=glibc.malloc.hugetlb=1", "PATH=/usr/bin:/bin"});
  ::setenv("ARGUS_UNSET_IN_WORKERS", "inherited", 1);
  ASSERT_TRUE(pool.Resize(1));
  ::unsetenv("ARGUS_UNSET_IN_WORKERS");
  EXPECT_EQ(ReadWhenWritten(out), "glibc.malloc.hugetlb=1|unset");
  pool.StopAll(std::chrono::seconds(5));
  EXPECT_EQ(pool.running(), 0);
}

// A worker that gives no heartbeat for the stall timeout is killed, and exits as one not asked
// to; one that beats on the socket it is given (--heartbeat-fd=3) keeps running.
TEST_F(WorkerPoolTest, AWorkerThatGivesNoHeartbeatIsKilledAndOneThatBeatsIsKept) {
  WorkerPool silent({"/bin/sh", "-c", "exec sleep 60"}, {"PATH=/usr/bin:/bin"});
  WorkerPool beating({"/bin/sh", "-c",
                      "test \"$0\" = --heartbeat-fd=3 || exit 3;"
                      " while printf . >&3; do sleep 0.05; done"},
                     {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(silent.Resize(1));
  ASSERT_TRUE(beating.Resize(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(beating.KillStalled(std::chrono::milliseconds(300)).empty());
  const std::vector<WorkerPool::Stall> stalls = silent.KillStalled(std::chrono::milliseconds(300));
  ASSERT_EQ(stalls.size(), 1u);
  EXPECT_EQ(stalls[0].pid, silent.running_pids().front());
  EXPECT_GE(stalls[0].silent, std::chrono::milliseconds(300));
  EXPECT_TRUE(silent.KillStalled(std::chrono::milliseconds(300)).empty()) << "killed once";

  const std::vector<WorkerPool::Exit> exits = ExitsWhenThereAre(silent);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_FALSE(exits[0].requested);
  EXPECT_FALSE(exits[0].beat);
  EXPECT_TRUE(WIFSIGNALED(exits[0].status) && WTERMSIG(exits[0].status) == SIGKILL);
  EXPECT_EQ(silent.running(), 0);

  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_TRUE(beating.KillStalled(std::chrono::milliseconds(300)).empty());
  EXPECT_EQ(beating.running(), 1) << "a worker that beats is kept";
  EXPECT_TRUE(beating.StopAll(std::chrono::seconds(5)).empty()) << "it stops when asked to";
}

// A worker asked to stop (scaled in) that hangs while it finishes is killed too.
TEST_F(WorkerPoolTest, AWorkerThatHangsWhileStoppingIsKilled) {
  // It ignores SIGTERM, as one hung in its batch would, and never beats.
  WorkerPool pool({"/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"},
                  {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(pool.Resize(1));
  ASSERT_TRUE(pool.Resize(0));
  EXPECT_EQ(pool.stopping(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(pool.KillStalled(std::chrono::milliseconds(300)).size(), 1u);
  const std::vector<WorkerPool::Exit> exits = ExitsWhenThereAre(pool);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].requested);
  EXPECT_EQ(pool.stopping(), 0);
}

// A worker that beat before it exited got as far as working: its exit says so, even when no
// beat was read while it ran (the scaler then counts no failed start).
TEST_F(WorkerPoolTest, AnExitTellsWhetherTheWorkerEverBeat) {
  WorkerPool pool({"/bin/sh", "-c", "printf . >&3; exit 3"}, {"PATH=/usr/bin:/bin"});
  ASSERT_TRUE(pool.Resize(1));
  const std::vector<WorkerPool::Exit> exits = ExitsWhenThereAre(pool);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_FALSE(exits[0].requested);
  EXPECT_TRUE(exits[0].beat);
}

}  // namespace
}  // namespace argus::scaler
