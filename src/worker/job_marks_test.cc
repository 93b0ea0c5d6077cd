#include "worker/job_marks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/temp_dir_test.h"

namespace argus::worker {
namespace {

using namespace std::chrono_literals;

// Marks written to a real SQLite catalog.
class JobMarksTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto catalog = catalog::OpenCatalog("sqlite://" + (dir_ / "catalog.db").string());
    ASSERT_TRUE(catalog) << catalog.error().message;
    catalog_ = std::move(*catalog);
  }

  // Records an upload that needs a job; returns its id.
  std::string AddUpload(int n) {
    const std::string id = std::string(63, 'a') + std::to_string(n % 10);
    auto added = catalog_->AddUpload({.id = id, .owner = "", .filename = "photo.jpg"});
    EXPECT_TRUE(added && added->needs_job);
    return id;
  }

  // The images a start-up recovery would enqueue again.
  std::vector<std::string> Unmarked() {
    auto awaiting = catalog_->ImagesAwaitingJob(NowMs() + 60'000);
    EXPECT_TRUE(awaiting) << awaiting.error().message;
    return awaiting ? *awaiting : std::vector<std::string>{};
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(JobMarksTest, PendingMarksAreWrittenWithinTheInterval) {
  JobMarks marks(*catalog_, 20ms);
  const std::string first = AddUpload(1);
  const std::string second = AddUpload(2);
  const std::string never_enqueued = AddUpload(3);
  marks.Add(first);
  marks.Add(second);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (Unmarked().size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(Unmarked(), std::vector<std::string>{never_enqueued});
}

TEST_F(JobMarksTest, MarksPendingAtDestructionAreWritten) {
  const std::string id = AddUpload(1);
  {
    JobMarks marks(*catalog_, std::chrono::hours(1));
    marks.Add(id);
    EXPECT_EQ(Unmarked(), std::vector<std::string>{id}) << "written before its interval";
  }
  EXPECT_TRUE(Unmarked().empty());
}

TEST_F(JobMarksTest, FlushWritesAtOnceAndSkipsRemovedImages) {
  JobMarks marks(*catalog_, std::chrono::hours(1));
  const std::string kept = AddUpload(1);
  const std::string removed = AddUpload(2);
  marks.Add(kept);
  marks.Add(removed);
  ASSERT_TRUE(catalog_->Remove("", removed, [] { return Result<void>(); }));
  ASSERT_TRUE(marks.Flush());
  EXPECT_TRUE(Unmarked().empty());
  EXPECT_FALSE(catalog_->AddUpload({.id = kept, .owner = "", .filename = "again.jpg"})->needs_job);
  EXPECT_TRUE(marks.Flush()) << "nothing pending is no error";
}

// Until its mark is written, the catalog says an image needs a job although it has one.
TEST_F(JobMarksTest, AMarkIsHeldUntilItIsWritten) {
  JobMarks marks(*catalog_, std::chrono::hours(1));
  const std::string id = AddUpload(1);
  EXPECT_FALSE(marks.Holds(id));
  marks.Add(id);
  EXPECT_TRUE(marks.Holds(id));
  EXPECT_TRUE(catalog_->AddUpload({.id = id, .owner = "", .filename = "again.jpg"})->needs_job)
      << "the catalog alone would queue a second job";
  ASSERT_TRUE(marks.Flush());
  EXPECT_FALSE(marks.Holds(id));
  EXPECT_FALSE(catalog_->AddUpload({.id = id, .owner = "", .filename = "again.jpg"})->needs_job);
}

}  // namespace
}  // namespace argus::worker
